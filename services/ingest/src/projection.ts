// Pure projection of events into table rows: one event, one row, in exactly one table.
//
// The envelope's fields are written out in every row literal, not spread in first: V8 gives each
// object made by `{ ...a, x }` a map of its own (937 maps in 1,000 steps rows), and the store's
// compiled encoder (store/src/encode-rows.ts) reads a table's rows fastest when they share one.
import type { AnyEvent, DeadLetter, Evidence } from '@grokstream/schemas';
import type { StoreRow, TableName } from '@grokstream/store';

export interface Projected {
  table: TableName;
  row: StoreRow;
}

/** Maps become parallel key/value arrays (18.16 has no Map type); keys sorted for determinism. */
function split<T extends string | number>(prefix: string, map: Record<string, T>): StoreRow {
  const keys = Object.keys(map).sort();
  return { [`${prefix}_keys`]: keys, [`${prefix}_values`]: keys.map((k) => map[k]!) };
}

function evidence(e: Evidence): StoreRow {
  return {
    window_start: e.window_start,
    window_end: e.window_end,
    ...split('value', e.values),
    ...split('threshold', e.thresholds),
  };
}

function deadLetterRow(v: DeadLetter): StoreRow {
  return {
    event_id: v.event_id, run_id: v.run_id, seq: v.seq, ts_ms: v.ts,
    source_topic: v.source_topic,
    source_partition: v.source_partition,
    source_offset: v.source_offset,
    key: v.key,
    payload: v.payload,
    error_kind: v.error_kind,
    reason: v.reason,
    consumer: v.consumer,
  };
}

export function project(event: AnyEvent): Projected {
  switch (event.name) {
    case 'RunStarted': {
      const v = event.value;
      return {
        table: 'runs',
        row: {
          event_id: v.event_id, run_id: v.run_id, seq: v.seq, ts_ms: v.ts,
          task: v.task,
          model: v.model,
          config_json: v.config_json,
          seed_data: v.seeds.data,
          seed_init: v.seeds.init,
          seed_order: v.seeds.order,
          layer_names: v.layer_names,
          param_count: v.param_count,
          backend: v.backend,
          host: v.host,
          grokstream_version: v.grokstream_version,
          resumed_from_step: v.resumed_from_step,
          ...split('tag', v.tags),
        },
      };
    }
    case 'StepMetrics': {
      const v = event.value;
      return {
        table: 'steps',
        row: {
          event_id: v.event_id, run_id: v.run_id, seq: v.seq, ts_ms: v.ts,
          step: v.step,
          train_loss: v.train_loss,
          train_acc: v.train_acc,
          test_loss: v.test_loss,
          test_acc: v.test_acc,
          lr: v.lr,
          weight_norm: v.weight_norm,
          layer_norms: v.layer_norms,
          grad_norm_sq: v.grad_norm_sq,
          update_norm: v.update_norm,
          softmax_collapse_frac: v.softmax_collapse_frac,
          last_layer_norm: v.last_layer_norm,
          init_distance: v.init_distance,
          ...split('extra', v.extra),
        },
      };
    }
    case 'ProbeSummary': {
      const v = event.value;
      return {
        table: 'probes',
        row: {
          event_id: v.event_id, run_id: v.run_id, seq: v.seq, ts_ms: v.ts,
          step: v.step,
          probe_batch_size: v.probe_batch_size,
          grad_noise_trace: v.grad_noise_trace,
          grad_snr: v.grad_snr,
          tr_h_sigma: v.tr_h_sigma,
          hessian_trace: v.hessian_trace,
          hessian_trace_avg: v.hessian_trace_avg,
          hessian_top_eig: v.hessian_top_eig,
          gop_scope: v.gop.map((g) => g.scope),
          gop_trace: v.gop.map((g) => g.trace),
          gop_frobenius: v.gop.map((g) => g.frobenius),
          gop_spectral: v.gop.map((g) => g.spectral),
          gop_top_eigs: v.gop.map((g) => g.top_eigs),
          gop_effective_rank: v.gop.map((g) => g.effective_rank),
          gop_numerical_rank: v.gop.map((g) => g.numerical_rank),
          gop_condition_number: v.gop.map((g) => g.condition_number),
          ...split('extra', v.extra),
          elapsed_ms: v.elapsed_ms,
        },
      };
    }
    case 'Checkpointed': {
      const v = event.value;
      return { table: 'checkpoints', row: { event_id: v.event_id, run_id: v.run_id, seq: v.seq, ts_ms: v.ts, step: v.step, uri: v.uri, bytes: v.bytes, sha256: v.sha256 } };
    }
    case 'RunFinished': {
      const v = event.value;
      return {
        table: 'run_ends',
        row: {
          event_id: v.event_id, run_id: v.run_id, seq: v.seq, ts_ms: v.ts,
          step: v.step,
          reason: v.reason,
          command_id: v.command_id,
          error: v.error,
          ...split('summary', v.summary),
        },
      };
    }
    case 'PhaseChanged': {
      const v = event.value;
      return {
        table: 'phases',
        row: {
          event_id: v.event_id, run_id: v.run_id, seq: v.seq, ts_ms: v.ts,
          step: v.step,
          phase: v.phase,
          previous_phase: v.previous_phase,
          ...evidence(v.evidence),
          detector: v.detector,
          detector_version: v.detector_version,
        },
      };
    }
    case 'StopRun': {
      const v = event.value;
      return {
        table: 'commands',
        row: {
          event_id: v.event_id, run_id: v.run_id, seq: v.seq, ts_ms: v.ts,
          command_id: v.command_id,
          policy: v.policy,
          reason: v.reason,
          step: v.step,
          ...evidence(v.evidence),
          issued_by: v.issued_by,
        },
      };
    }
    case 'DeadLetter':
      return { table: 'dead_letters', row: deadLetterRow(event.value) };
    case 'DetectorProgress':
      // Flow control between a detector and a trainer's stop gate, not a record of training:
      // projectBatch leaves it out.
      throw new Error(`a DetectorProgress (run ${event.value.run_id}, step ${event.value.step}) is flow control for the trainer; ingest does not store it`);
    case 'SweepPoint':
      // Work for workers, not a record of training: the ingest consumer dead-letters it before
      // it gets here (INGEST_EVENTS).
      throw new Error(`a SweepPoint (run ${event.value.run_id}) is work for grokstream worker on the sweeps topic; ingest does not store it`);
  }
}

/** Groups projected rows by table, keeping arrival order within a table. */
export function projectBatch(events: AnyEvent[]): Map<TableName, StoreRow[]> {
  const out = new Map<TableName, StoreRow[]>();
  for (const e of events) {
    if (e.name === 'DetectorProgress') continue; // flow control (run.stop_gate), not stored
    const { table, row } = project(e);
    let rows = out.get(table);
    if (!rows) out.set(table, (rows = []));
    rows.push(row);
  }
  return out;
}
