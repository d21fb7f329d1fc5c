// The training loop. Each step, in order, is a named part with a typed result:
//   the stop         (stops.ts)        an obeyed StopRun or a signal ends the run here
//   the batch        (batches.ts)      the step's training samples
//   the update       (update.ts)       forward, loss, gradients, the optimiser's step (eager, or
//                                      one TensorFlow graph: graph/graph-engine.ts)
//   the measurements (measurements.ts) the StepMetrics of the step, one read-back
//   the probes       (probe-step.ts)   the ProbeSummary, at probes.every
//   the checkpoint   (checkpointing.ts) at checkpoint.every, and when the run ends
import { hostname } from 'node:os';
import type { AnyEvent, RunFinished, RunStarted, StepMetrics, StopRun } from '@grokstream/schemas';
import { tf } from './tf.ts';
import type { Model } from './models/model.ts';
import type { Task } from './tasks/task.ts';
import { optimizer as makeOptimizer, type OptimizerOptions } from './optim/optimizer.ts';
import { learningRate, type ScheduleOptions } from './optim/schedule.ts';
import { measureStep, stepMetrics } from './measurements.ts';
import { Rng } from './random.ts';
import { BusOutageError, type BoundedEmitter } from './emitter.ts';
import type { CheckpointState } from './checkpoint.ts';
import type { ProbeFields } from './probes/index.ts';
import { BatchSource, type BatchSize } from './batches.ts';
import { eagerEngine, type StepEngine } from './update.ts';
import type { Optimizer } from './optim/optimizer.ts';
import { pendingStop, type Stop } from './stops.ts';
import type { StopGate } from './stop-gate.ts';
import { RunCursor } from './run-cursor.ts';
import { Checkpointer } from './checkpointing.ts';
import { ProbePipeline, probeDue, type Probe } from './probe-step.ts';
import { InlineSummarizer, type GramSummarizer } from './probes/summarizer.ts';

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
  probe?: Probe;
  /** Where the probes' arithmetic runs (default: inline, on this thread); run.ts gives a worker. */
  summarizer?: GramSummarizer;
  /** How the optimisation steps run, given the loop's optimizer (default: eager, update.ts). */
  engine?: (opt: Optimizer, initial: tf.Tensor[] | undefined) => StepEngine;
  emitter: BoundedEmitter;
  stopRequested?: () => StopRun | undefined;
  /** run.stop_gate: each step waits for a detector's verdicts on the steps before (stop-gate.ts). */
  stopGate?: StopGate;
  /** The step the trainer had completed when the obeyed StopRun arrived (for RunFinished.summary). */
  stopReceivedAt?: () => number | undefined;
  interrupted?: () => boolean;
  /**
   * Hand the run off at the next step boundary (a sweep worker giving its point back): it is
   * checkpointed and its events flushed, but it is not finished (no RunFinished): whoever takes
   * the point next resumes it. A pending StopRun wins: that run ends.
   */
  handOff?: () => boolean;
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
  /**
   * bus_outage: the bus refused events past the outage limit; the run is checkpointed, not
   * finished. handed_off: handOff() asked for it; the run is checkpointed, not finished.
   */
  reason: RunFinished['reason'] | 'bus_outage' | 'handed_off';
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
  // mulberry32's state is its seed: a checkpoint's snapshot (and orderOffset) continue the batch order.
  const orderRng = new Rng(o.resume ? o.resume.state.orderRng : o.seeds.order);
  const obeyed = new Set<string>();
  const cursor = new RunCursor(o.runId);

  if (o.resume) {
    const { state, data } = o.resume;
    if (state.runId !== o.runId) throw new Error(`checkpoint belongs to run ${state.runId}, not ${o.runId}`);
    const nParams = model.params.length;
    model.params.forEach((p, i) => tf.tidy(() => p.assign(tf.tensor(data[i]!, p.shape))));
    opt.load(state.optimizerUpdates, data.slice(nParams));
    cursor.step = state.step;
    cursor.seq = Math.max(state.nextSeq, (o.resume.log?.lastSeq ?? -1) + 1);
    cursor.quietThrough = Math.max(state.step, o.resume.log?.lastStep ?? -1);
    if (cursor.quietThrough > state.step) log(`steps ${state.step + 1}..${cursor.quietThrough} are on the event log already: trained again, not sent again`);
    for (const c of state.obeyedCommands) obeyed.add(c);
  }
  const initial = o.resume ? undefined : model.params.map((p) => tf.clone(p));

  await o.emitter.emit({
    name: 'RunStarted',
    value: {
      ...cursor.envelope(),
      ...o.started,
      seeds: o.seeds,
      model: model.description,
      layer_names: model.paramNames,
      param_count: model.params.reduce((n, p) => n + p.size, 0),
      host: hostname(),
      resumed_from_step: o.resume ? cursor.step : null,
    },
  });

  const batches = new BatchSource(task, orderRng, o.batchSize, o.batchSwitch, o.resume?.state.orderOffset ?? 0);
  const checkpointer = new Checkpointer({
    ...o.checkpoint,
    steps: o.steps,
    model,
    opt,
    orderRng: batches,
    obeyed,
    configJson: o.started.config_json,
    emitter: o.emitter,
    cursor,
  });
  // After a resume's weights and slots are loaded: a graph engine starts from them.
  const engine = o.engine ? o.engine(opt, initial) : eagerEngine(model, task, opt);
  /** A checkpoint reads the optimizer's state: up to date first (a graph engine keeps its own). */
  const save: Checkpointer['save'] = (...args) => {
    engine.sync();
    return checkpointer.save(...args);
  };

  let reason = 'completed' as RunFinished['reason']; // set by obey() too: widened for the checks after the loop
  let handedOff = false;
  let commandId: string | null = null;
  let error: Error | undefined;
  let outage: BusOutageError | undefined;
  const t0 = performance.now();
  const firstStep = cursor.step;
  const rate = () => ((cursor.step - firstStep) * 1000) / Math.max(1, performance.now() - t0);
  const probes = o.probe ? new ProbePipeline(o.probe, o.summarizer ?? new InlineSummarizer()) : undefined;
  /** The ProbeSummary of an earlier step, whose arithmetic ran meanwhile, if one is pending. */
  const emitPendingProbe = async () => {
    const summary = probes?.finish(cursor);
    if (!summary) return;
    try {
      await o.emitter.emit({ name: 'ProbeSummary', value: summary });
    } catch (err) {
      // The bus is gone and takes no more events: a derived measurement, said rather than dropped.
      if (err instanceof BusOutageError) log(`probes: the ProbeSummary of step ${summary.step} is not sent (the bus refused events past the outage limit)`);
      throw err;
    }
  };
  const obey = (stop: Stop, when: string) => {
    reason = stop.reason;
    if (stop.reason !== 'early_stopped') return;
    const c = stop.command;
    commandId = c.command_id;
    obeyed.add(c.command_id);
    log(`stop: ${c.policy} (${c.reason}) from ${c.issued_by}, command ${c.command_id}${when}`);
  };
  try {
    while (cursor.step < o.steps) {
      // The step itself only awaits promises that settle as microtasks, so without this the bus's
      // sockets (events out, commands in) would not be serviced until training ends.
      await yieldToEventLoop();

      // The stop. Not while steps already on the log are trained again (a resume after a crash):
      // those steps happened, and a StopRun may have come from them; the run ends after them, so
      // its RunFinished is past every step it sent.
      const replaying = cursor.step < cursor.quietThrough;
      // The gate first: a StopRun of a judged step is in before the step counts as judged.
      if (!replaying && o.stopGate) await o.stopGate.before(cursor.step + 1, () => pendingStop(o.stopRequested, o.interrupted) !== undefined);
      const stop = replaying ? undefined : pendingStop(o.stopRequested, o.interrupted);
      if (stop) {
        obey(stop, '');
        break;
      }
      if (o.handOff?.()) {
        handedOff = true;
        break;
      }
      o.emitter.check(); // the bus has been gone past the outage limit: stop here (below)

      // The batch and the optimisation step.
      cursor.step++;
      const step = cursor.step;
      const batch = batches.next(step);
      const lr = learningRate(o.schedule, step);
      // The stop, once more before the update (docs/architecture.md, "Stops"): a StopRun that
      // came in during the forward and backward passes cancels this step, whose update is never
      // applied, so the run ends at the last completed step rather than one later. (A command
      // listener in a worker thread is read synchronously here; a signal needs the event loop.)
      let late: Stop | undefined;
      const evaluate = step % o.evalEvery === 0 || step === o.steps;
      const quiet = cursor.quiet;
      const probeNow = !quiet && probeDue(o.probe, o.probeEvery, step);
      const update = engine.step(batch, lr, () => !replaying && (late = pendingStop(o.stopRequested)) !== undefined, { evaluate, probe: probeNow });
      if (!update) {
        batch.release();
        cursor.step--;
        obey(late!, `; step ${step} cancelled before its update`);
        break;
      }

      // The measurements.
      const m =
        update.measured !== undefined
          ? update.measured
          : await measureStep({ model, task, out: update.out, labels: batch.labels, loss: update.loss, gradNormSq: update.gradNormSq, evaluate, initial });
      update.dispose();
      batch.release();
      // The probes of the step before, whose arithmetic ran while this one trained: out before
      // this step's metrics (and their seq before its seq), so the events are in step order.
      await emitPendingProbe();
      const header = quiet ? { event_id: '', run_id: o.runId, seq: -1, ts: Date.now() } : cursor.envelope();
      const metrics = stepMetrics(header, step, lr, m, update.updateNormSq);
      if (!quiet) await o.emitter.emit({ name: 'StepMetrics', value: metrics });

      // The probes: read now, summarized meanwhile (probe-step.ts).
      if (probeNow) probes!.start(step);

      // The checkpoint, after this step's probes.
      if (checkpointer.due) {
        await emitPendingProbe();
        await save(false, !quiet);
      }
      o.onStep?.(metrics, rate());
    }
    // The last probe's summary, before the run's end.
    await emitPendingProbe();
  } catch (err) {
    if (err instanceof BusOutageError) {
      outage = err;
    } else {
      reason = 'failed';
      error = err as Error;
      log(`training failed at step ${cursor.step}: ${error.message}`);
    }
  }

  const ridingOut = (err: unknown) => {
    if (!(err instanceof BusOutageError)) throw err;
    outage ??= err;
  };
  let finished = false;
  if (outage && probes?.pendingStep !== undefined) {
    log(`probes: the ProbeSummary of step ${probes.pendingStep} is not sent (the bus refused events past the outage limit)`);
  }
  if (outage) {
    // Not finished: checkpoint here so --resume continues from this step (unless the step that
    // ran into the outage limit was just checkpointed; its Checkpointed event is among the unsent).
    if (checkpointer.lastStep !== cursor.step) await save(false, true, 'now').catch(ridingOut);
  } else if (handedOff) {
    // Not finished either: a checkpoint of this step, and every event out, for whoever resumes it.
    try {
      if (checkpointer.lastStep !== cursor.step) await save(false, true, 'await');
      await o.emitter.flush();
      await checkpointer.settled(); // a periodic checkpoint of this very step, committed once shipped
    } catch (err) {
      ridingOut(err);
    }
  } else {
    try {
      // A step that failed after the probes of the step before were read: they are still sound.
      if (reason === 'failed') {
        await emitPendingProbe().catch((err: unknown) => {
          if (err instanceof BusOutageError) throw err;
          log(`probes: the ProbeSummary of the last probe step was lost with the failure: ${(err as Error).message}`);
        });
      }
      if (reason !== 'failed') await save(true);
      const summary: Record<string, number> = { steps_per_second: rate() };
      const receivedAt = reason === 'early_stopped' ? o.stopReceivedAt?.() : undefined;
      if (receivedAt !== undefined) summary.stop_received_at_step = receivedAt;
      if (o.stopGate) summary.stop_gate_wait_ms = o.stopGate.waitedMs;
      finished = true;
      await o.emitter.emit({
        name: 'RunFinished',
        value: { ...cursor.envelope(), step: cursor.step, reason, command_id: commandId, error: error ? error.message : null, summary },
      });
      await o.emitter.flush();
    } catch (err) {
      ridingOut(err);
    }
  }
  engine.dispose();
  opt.dispose();
  if (initial) tf.dispose(initial);
  const step = cursor.step;
  if (outage) {
    log(`emit: giving up: ${outage.message}`);
    return { reason: 'bus_outage', step, commandId, error: outage, unsent: o.emitter.drain(), finished };
  }
  if (handedOff) {
    log(`handed off at step ${step}: checkpointed, not finished`);
    return { reason: 'handed_off', step, commandId: null };
  }
  return { reason, step, commandId, ...(error ? { error } : {}) };
}
