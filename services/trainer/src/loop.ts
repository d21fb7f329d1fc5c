// The training loop: one optimisation step at a time, every step's metrics, probes at their
// cadence, checkpoints, and a check for stop commands and signals at each step boundary.
import { hostname } from 'node:os';
import { newEventId, type AnyEvent, type RunFinished, type RunStarted, type StepMetrics, type StopRun } from '@grokstream/schemas';
import { tf } from './tf.ts';
import type { Model } from './models/model.ts';
import type { Task } from './tasks/task.ts';
import { optimizer as makeOptimizer, type OptimizerOptions } from './optim/optimizer.ts';
import { learningRate, type ScheduleOptions } from './optim/schedule.ts';
import { gradNormSq } from './metrics.ts';
import { measureStep } from './measurements.ts';
import { Rng } from './random.ts';
import { BusOutageError, type BoundedEmitter } from './emitter.ts';
import { saveCheckpoint, type CheckpointState } from './checkpoint.ts';
import type { ProbeFields } from './probes/index.ts';
import { BatchSource, type BatchSize } from './batches.ts';

export type { BatchSize };


export type { ProbeFields };

export interface LoopOptions {
  runId: string;
  task: Task;
  model: Model;
  optimizer: OptimizerOptions;
  schedule: ScheduleOptions;
  steps: number;
  evalEvery: number;
  batchSize: BatchSize;
  batchSwitch?: { atStep: number; batchSize: BatchSize };
  seeds: { data: number; init: number; order: number };
  probeEvery: number;
  probe?: (step: number) => ProbeFields;
  emitter: BoundedEmitter;
  stopRequested?: () => StopRun | undefined;
  /** The step the trainer had completed when the obeyed StopRun arrived (for RunFinished.summary). */
  stopReceivedAt?: () => number | undefined;
  interrupted?: () => boolean;
  checkpoint: { dir: string; every: number };
  /**
   * Continue from a checkpoint. `log`: what the event log already holds of the run (a crash can
   * leave steps past the checkpoint on it): numbering goes on after its last seq, and steps up to
   * its last step are trained again without being sent again.
   */
  resume?: { state: CheckpointState; data: Float32Array[]; log?: { lastSeq: number; lastStep: number } };
  /** RunStarted fields the loop cannot know: config, task and backend. */
  started: Pick<RunStarted, 'config_json' | 'task' | 'backend' | 'grokstream_version' | 'tags'>;
  onStep?: (metrics: StepMetrics, stepsPerSecond: number) => void;
  log?: (line: string) => void;
}

export interface LoopResult {
  /** bus_outage: the bus refused events past the outage limit; the run is checkpointed, not finished. */
  reason: RunFinished['reason'] | 'bus_outage';
  step: number;
  commandId: string | null;
  error?: Error;
  /** With bus_outage: the events never sent, oldest first (run.ts spills them to a file). */
  unsent?: AnyEvent[];
  /** With bus_outage: whether RunFinished is among the unsent events (nothing is left to train). */
  finished?: boolean;
}

/**
 * Turns of the event loop between two steps. A step is one synchronous block, so a message that
 * arrived during it (a StopRun) is only handled after it; the Kafka client then needs a few
 * turns of its own (response, decode, batch handler) before the command is seen. One turn per
 * step let the trainer run 4-5 more steps on Kafka after a StopRun arrived (bench:stop); a few
 * cost microseconds and let those turns happen at the same step boundary.
 */
export const TURNS_PER_STEP = 4;

async function yieldToEventLoop(): Promise<void> {
  for (let i = 0; i < TURNS_PER_STEP; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export async function trainLoop(o: LoopOptions): Promise<LoopResult> {
  const { task, model } = o;
  const log = o.log ?? ((l: string) => console.error(l));
  const opt = makeOptimizer(model.params, o.optimizer);
  // mulberry32's state is its seed, so a checkpoint's snapshot continues the same batch order.
  const orderRng = new Rng(o.resume ? o.resume.state.orderRng : o.seeds.order);
  const obeyed = new Set<string>();
  let step = 0;
  let seq = 0;
  /** Steps up to this one are already on the log (see LoopOptions.resume). */
  let quietThrough = 0;

  if (o.resume) {
    const { state, data } = o.resume;
    if (state.runId !== o.runId) throw new Error(`checkpoint belongs to run ${state.runId}, not ${o.runId}`);
    const nParams = model.params.length;
    model.params.forEach((p, i) => tf.tidy(() => p.assign(tf.tensor(data[i]!, p.shape))));
    opt.load(state.optimizerUpdates, data.slice(nParams));
    step = state.step;
    seq = Math.max(state.nextSeq, (o.resume.log?.lastSeq ?? -1) + 1);
    quietThrough = Math.max(step, o.resume.log?.lastStep ?? -1);
    if (quietThrough > step) log(`steps ${step + 1}..${quietThrough} are on the event log already: trained again, not sent again`);
    for (const c of state.obeyedCommands) obeyed.add(c);
  }
  const initial = o.resume ? undefined : model.params.map((p) => tf.clone(p));

  const envelope = () => ({ event_id: newEventId(), run_id: o.runId, seq: seq++, ts: Date.now() });
  await o.emitter.emit({
    name: 'RunStarted',
    value: {
      ...envelope(),
      ...o.started,
      seeds: o.seeds,
      model: model.description,
      layer_names: model.paramNames,
      param_count: model.params.reduce((n, p) => n + p.size, 0),
      host: hostname(),
      resumed_from_step: o.resume ? step : null,
    },
  });

  let checkpointedAt = -1;
  /** `final`: RunFinished follows, so the resumed run's first seq skips it too. */
  const checkpoint = async (final: boolean, announce = true) => {
    checkpointedAt = step;
    const slots = opt.state().slots;
    const tensors = [...model.params, ...slots];
    const state: CheckpointState = {
      runId: o.runId,
      step,
      // Checkpointed itself takes one seq, and RunFinished one more after the last checkpoint.
      // (After a crash the log may hold more than this checkpoint knows: see resume.log.)
      nextSeq: seq + (announce ? 1 : 0) + (final ? 1 : 0),
      orderRng: orderRng.snapshot,
      optimizerUpdates: opt.updates,
      obeyedCommands: [...obeyed],
      configJson: o.started.config_json,
      tensors: tensors.map((t) => ({ name: t.name, shape: t.shape })),
    };
    const saved = saveCheckpoint(o.checkpoint.dir, state, tensors.map((t) => t.dataSync() as Float32Array));
    if (announce) await o.emitter.emit({ name: 'Checkpointed', value: { ...envelope(), step, uri: saved.uri, bytes: saved.bytes, sha256: saved.sha256 } });
  };

  const batches = new BatchSource(task, orderRng, o.batchSize, o.batchSwitch);

  let reason: RunFinished['reason'] = 'completed';
  let commandId: string | null = null;
  let error: Error | undefined;
  let outage: BusOutageError | undefined;
  const t0 = performance.now();
  const firstStep = step;
  try {
    while (step < o.steps) {
      // Yield to the event loop once per step. The step itself only awaits promises that settle
      // as microtasks, so without this the bus's sockets (events out, commands in) would not be
      // serviced until training ends.
      await yieldToEventLoop();
      const stop = o.stopRequested?.();
      if (stop) {
        reason = 'early_stopped';
        commandId = stop.command_id;
        obeyed.add(stop.command_id);
        log(`stop: ${stop.policy} (${stop.reason}) from ${stop.issued_by}, command ${stop.command_id}`);
        break;
      }
      if (o.interrupted?.()) {
        reason = 'interrupted';
        break;
      }
      o.emitter.check(); // the bus has been gone past the outage limit: stop here (below)
      step++;
      const batch = batches.next(step);
      const lr = learningRate(o.schedule, step);
      const { loss, grads, out } = tf.tidy(() => {
        let logits!: tf.Tensor2D;
        const { value, grads: g } = tf.variableGrads(() => {
          logits = tf.keep(model.forward(batch.x));
          return tf.mean(task.perSampleLoss(logits, batch.y)) as tf.Scalar;
        }, model.params);
        return { loss: value, grads: model.params.map((p) => g[p.name]!), out: logits };
      });
      const gsq = tf.tidy(() => gradNormSq(grads));
      const updateNormSq = opt.apply(grads, lr);
      tf.dispose(grads);

      const evaluate = step % o.evalEvery === 0 || step === o.steps;
      const m = await measureStep({ model, task, out, labels: batch.labels, loss, gradNormSq: gsq, evaluate, initial });
      tf.dispose([loss, out, gsq]);
      batch.release();

      const quiet = step <= quietThrough;
      const metrics: StepMetrics = {
        ...(quiet ? { event_id: '', run_id: o.runId, seq: -1, ts: Date.now() } : envelope()),
        step,
        train_loss: m.trainLoss,
        train_acc: m.trainAcc,
        test_loss: m.testLoss,
        test_acc: m.testAcc,
        lr,
        weight_norm: Math.sqrt(m.norms.reduce((a, n) => a + n * n, 0)),
        layer_norms: m.norms,
        grad_norm_sq: m.gradNormSq,
        update_norm: Math.sqrt(updateNormSq),
        softmax_collapse_frac: m.softmaxCollapse,
        last_layer_norm: m.lastLayerNorm,
        init_distance: m.initDistance,
        extra: m.diagnostics,
      };
      if (!quiet) await o.emitter.emit({ name: 'StepMetrics', value: metrics });

      if (!quiet && o.probe && o.probeEvery > 0 && step % o.probeEvery === 0) {
        const p0 = performance.now();
        const fields = o.probe(step);
        await o.emitter.emit({ name: 'ProbeSummary', value: { ...envelope(), step, ...fields, elapsed_ms: performance.now() - p0 } });
      }
      if (o.checkpoint.every > 0 && step % o.checkpoint.every === 0 && step < o.steps) await checkpoint(false, !quiet);
      o.onStep?.(metrics, ((step - firstStep) * 1000) / (performance.now() - t0));
    }
  } catch (err) {
    if (err instanceof BusOutageError) {
      outage = err;
    } else {
      reason = 'failed';
      error = err as Error;
      log(`training failed at step ${step}: ${error.message}`);
    }
  }

  const ridingOut = (err: unknown) => {
    if (!(err instanceof BusOutageError)) throw err;
    outage ??= err;
  };
  let finished = false;
  if (outage) {
    // Not finished: checkpoint here so --resume continues from this step (unless the step that
    // ran into the outage limit was just checkpointed; its Checkpointed event is among the unsent).
    if (checkpointedAt !== step) await checkpoint(false).catch(ridingOut);
  } else {
    try {
      if (reason !== 'failed') await checkpoint(true);
      const summary: Record<string, number> = { steps_per_second: ((step - firstStep) * 1000) / Math.max(1, performance.now() - t0) };
      const receivedAt = reason === 'early_stopped' ? o.stopReceivedAt?.() : undefined;
      if (receivedAt !== undefined) summary.stop_received_at_step = receivedAt;
      finished = true;
      await o.emitter.emit({
        name: 'RunFinished',
        value: { ...envelope(), step, reason, command_id: commandId, error: error ? error.message : null, summary },
      });
      await o.emitter.flush();
    } catch (err) {
      ridingOut(err);
    }
  }
  opt.dispose();
  if (initial) tf.dispose(initial);
  if (outage) {
    log(`emit: giving up: ${outage.message}`);
    return { reason: 'bus_outage', step, commandId, error: outage, unsent: o.emitter.drain(), finished };
  }
  return { reason, step, commandId, ...(error ? { error } : {}) };
}
