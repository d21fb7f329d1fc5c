// A synthetic grokking run as store rows: every table a real run fills (runs, steps, probes,
// phases, commands, run_ends, dead_letters), with curves shaped like the reference run
// (memorize, plateau, then a late rise of test accuracy). The rollup contract and the panel
// specs seed with it, and check their answers against the arrays it returns.
import type { StoreRow } from './store.ts';
import type { TableName } from './tables.ts';
import { GENERALIZED_TEST_ACC, MEMORIZED_TRAIN_ACC, grokkedStep } from '@grokstream/schemas';

export interface SampleRunOptions {
  runId: string;
  steps: number;
  /** Step of the MEMORIZATION phase change. */
  memorizedAt: number;
  /** Step of the GROKKING phase change; CONVERGED follows 10% of the run later. */
  grokkedAt: number;
  /** Test metrics every this many steps (null between), like run.eval_every. */
  evalEvery?: number;
  /** Probes every this many steps. */
  probeEvery?: number;
  /** Epoch ms of step 0; one step per 100 ms. */
  startMs?: number;
  weightDecay?: number;
  lr?: number;
  trainFraction?: number;
  hidden?: number;
  seed?: number;
  sweep?: string;
  /** Keys the sweep varied and this run's values (tags swept:<key>). */
  swept?: Record<string, string>;
  /** Stopped early by this policy at the last step, else completed. */
  stoppedBy?: string;
}

export type SampleRun = Record<TableName, StoreRow[]>;

const LAYERS = ['dense_1', 'dense_2'];

export function sampleRun(o: SampleRunOptions): SampleRun {
  const start = o.startMs ?? 1_750_000_000_000;
  const evalEvery = o.evalEvery ?? 1;
  const probeEvery = o.probeEvery ?? 10;
  const at = (step: number) => start + step * 100;
  let seq = 0;
  const envelope = (step: number, kind: string) => ({
    event_id: `${o.runId}-${kind}-${step}`,
    run_id: o.runId,
    seq: seq++,
    ts_ms: at(step),
  });
  const config = {
    run: { steps: o.steps, seed: o.seed ?? 0, tags: o.sweep ? { sweep: o.sweep } : {} },
    task: { kind: 'modular', op: 'add', p: 59, train_fraction: o.trainFraction ?? 0.5 },
    model: { kind: 'mlp', hidden: [o.hidden ?? 128] },
    optimizer: { kind: 'adamw', lr: o.lr ?? 0.003, weight_decay: o.weightDecay ?? 1 },
  };
  const rows: SampleRun = { runs: [], run_ends: [], checkpoints: [], steps: [], probes: [], phases: [], commands: [], dead_letters: [] };
  rows.runs.push({
    ...envelope(0, 'started'),
    task: 'modular',
    model: 'mlp',
    config_json: JSON.stringify(config),
    seed_data: o.seed ?? 0,
    seed_init: o.seed ?? 0,
    seed_order: o.seed ?? 0,
    layer_names: LAYERS,
    param_count: 30_000,
    backend: 'wasm',
    host: 'sample',
    grokstream_version: 'sample',
    resumed_from_step: null,
    tag_keys: [...(o.sweep ? ['sweep'] : []), ...Object.keys(o.swept ?? {}).map((k) => `swept:${k}`)],
    tag_values: [...(o.sweep ? [o.sweep] : []), ...Object.values(o.swept ?? {})],
  });
  for (let step = 0; step < o.steps; step++) {
    const memo = Math.min(1, step / o.memorizedAt);
    const grok = 1 / (1 + Math.exp(-(step - o.grokkedAt) / (o.steps / 50)));
    const evaluated = step % evalEvery === 0;
    const wn = 40 - 20 * grok + Math.sin(step / 7);
    rows.steps.push({
      ...envelope(step, 'step'),
      step,
      train_loss: 4 * (1 - memo) + 1e-3 + 0.01 * Math.abs(Math.sin(step)),
      train_acc: memo,
      test_loss: evaluated ? 4 - 3.9 * grok : null,
      test_acc: evaluated ? 0.02 + 0.98 * grok : null,
      lr: o.lr ?? 0.003,
      weight_norm: wn,
      layer_norms: [wn * 0.8, wn * 0.6],
      grad_norm_sq: 1 / (1 + step),
      update_norm: 0.01,
      softmax_collapse_frac: step / o.steps,
      last_layer_norm: wn * 0.6,
      init_distance: step / 100,
      extra_keys: [],
      extra_values: [],
    });
    if (step % probeEvery === 0) {
      rows.probes.push({
        ...envelope(step, 'probe'),
        step,
        probe_batch_size: 64,
        grad_noise_trace: 1 + grok,
        grad_snr: 2 - grok,
        tr_h_sigma: 0.5,
        hessian_trace: 10 - 5 * grok,
        hessian_trace_avg: 10 - 5 * grok,
        hessian_top_eig: 3 - grok,
        gop_scope: ['model', ...LAYERS],
        gop_trace: [3, 2, 1],
        gop_frobenius: [2, 1.5, 0.5],
        gop_spectral: [1.5, 1, 0.4],
        gop_top_eigs: [
          [1.5, 0.7, 0.3],
          [1, 0.5],
          [0.4, 0.1],
        ],
        gop_effective_rank: [20 - 15 * grok, 10, 5],
        gop_numerical_rank: [30, 15, 8],
        gop_condition_number: [100 + step, 50, 20],
        extra_keys: ['fourier_sparsity'],
        extra_values: [0.1 + 0.8 * grok],
        elapsed_ms: 5,
      });
    }
  }
  const last = o.steps - 1;
  const converged = Math.min(last, o.grokkedAt + Math.round(o.steps / 10));
  const changes: [number, string, string | null][] = [
    [1, 'WARMUP', null],
    [o.memorizedAt, 'MEMORIZATION', 'WARMUP'],
    [o.grokkedAt, 'GROKKING', 'MEMORIZATION'],
    [converged, 'CONVERGED', 'GROKKING'],
  ];
  for (const [step, phase, previous] of changes) {
    rows.phases.push({
      ...envelope(step, `phase-${phase}`),
      step,
      phase,
      previous_phase: previous,
      window_start: Math.max(0, step - 50),
      window_end: step,
      value_keys: [],
      value_values: [],
      threshold_keys: [],
      threshold_values: [],
      detector: 'phases',
      detector_version: 'sample',
    });
  }
  if (o.stoppedBy) {
    rows.commands.push({
      ...envelope(last, 'stop'),
      command_id: `${o.runId}-stop`,
      policy: o.stoppedBy,
      reason: `${o.stoppedBy} fired`,
      step: last,
      window_start: last - 50,
      window_end: last,
      value_keys: [],
      value_values: [],
      threshold_keys: [],
      threshold_values: [],
      issued_by: 'sample',
    });
  }
  rows.run_ends.push({
    ...envelope(last, 'finished'),
    step: last,
    reason: o.stoppedBy ? 'early_stopped' : 'completed',
    command_id: o.stoppedBy ? `${o.runId}-stop` : null,
    error: null,
    summary_keys: [],
    summary_values: [],
  });
  rows.dead_letters.push({
    ...envelope(last, 'dead'),
    source_topic: 'grokstream.events',
    source_partition: 0,
    source_offset: 1000 + last,
    key: o.runId,
    payload: 'AAAA',
    error_kind: 'decode',
    reason: 'unknown schema fingerprint',
    consumer: 'ingest',
  });
  return rows;
}

/** Inserts a sample run, every table, in chunks of `chunk` rows (several inserts per table). */
export async function insertSampleRun(
  store: { insert(table: TableName, rows: StoreRow[]): Promise<void> },
  run: SampleRun,
  chunk = 1000,
): Promise<void> {
  for (const [table, rows] of Object.entries(run) as [TableName, StoreRow[]][]) {
    for (let i = 0; i < rows.length; i += chunk) await store.insert(table, rows.slice(i, i + chunk));
  }
}

/**
 * The run's accuracy milestones as run_summary has them (schemas/src/milestones.ts), from its
 * step rows: what the contract tests expect.
 */
export function sampleMilestones(run: SampleRun): { memorized_step: number | null; grokked_step: number | null; grok_delay: number | null } {
  const first = (field: 'train_acc' | 'test_acc', threshold: number) => {
    const row = run.steps.find((s) => s[field] !== null && Number(s[field]) >= threshold);
    return row ? Number(row.step) : null;
  };
  const memorized = first('train_acc', MEMORIZED_TRAIN_ACC);
  const grokked = grokkedStep(memorized, first('test_acc', GENERALIZED_TEST_ACC));
  return { memorized_step: memorized, grokked_step: grokked, grok_delay: grokked === null ? null : grokked - memorized! };
}
