// One training run wired to a bus: backend, topics, emission, the control listener, signals.
import { randomUUID } from 'node:crypto';
import { EventLogWriter, GENERALIZED_TEST_ACC, MEMORIZED_TRAIN_ACC, TOPICS, grokkedStep, type AnyEvent, type EventCodec, type StepMetrics } from '@grokstream/schemas';
import { EventPublisher, readRunTail, standardTopics, type Bus, type OutgoingMessage } from '@grokstream/bus';
import { DEFAULTS } from '@grokstream/shell';
import { chooseBackend, describeBackend, tf, type BackendName } from './tf.ts';
import type { RunConfig } from './config/schema.ts';
import { buildModel, buildOptimizer, buildTask, mlpOptionsOf } from './build.ts';
import { graphEngine, graphEngineProblem, type GraphEngineExtras, type GraphStepEngine } from './graph/graph-engine.ts';
import type { ProbeGraphReading } from './graph/mlp-probes.ts';
import { graphHvp, graphProbeReader, type Weights } from './graph/probe-reader.ts';
import type { Optimizer } from './optim/optimizer.ts';
import { BoundedEmitter, BusOutageError } from './emitter.ts';
import { findSpills, readSpills, removeSpills, writeSpill } from './spill.ts';
import { listenForCommands } from './control.ts';
import { StopGate } from './stop-gate.ts';
import { latestCheckpoint, loadCheckpoint } from './checkpoint.ts';
import { trainLoop, type LoopResult } from './loop.ts';
import { GROKSTREAM_VERSION } from './version.ts';
import { createProbeState, readProbes } from './probes/index.ts';
import { InlineSummarizer, WorkerSummarizer, type GramSummarizer } from './probes/summarizer.ts';
import type { Probe } from './probe-step.ts';
import type { Task } from './tasks/task.ts';
import type { Model } from './models/model.ts';
import type { MlpShape } from './graph/mlp-step.ts';

/** An exact Tr(HΣ) (B HVPs) takes the per-sample gradients, so its probe steps trace the deltas op by op. */
const exactTrHSigma = (cfg: RunConfig) => cfg.probes.hessian.tr_h_sigma && cfg.probes.hessian.tr_h_sigma_samples === 'exact';

/**
 * The probes at their configured cadence, on a fixed probe batch (the first probes.batch_size
 * training samples: the split is already shuffled by the data seed), so their trends compare
 * like with like across steps. Where the step is one graph (`graph`), so are the probes'
 * first-order reads and their Hessian-vector products (graph/probe-reader.ts).
 */
function probeRunner(
  cfg: RunConfig,
  task: Task,
  model: Model,
  graph: { shape: MlpShape; weights: Weights; fromStep: () => ProbeGraphReading | undefined } | undefined,
  log: (line: string) => void,
): { probe: Probe; graphReads: boolean; stepReads?: GraphEngineExtras['probe']; dispose(): void } | undefined {
  const p = cfg.probes;
  if (p.every === 0) return undefined;
  const n = Math.min(p.batch_size, task.train.x.shape[0]);
  const batch = { x: task.train.x.slice([0, 0], [n, -1]), y: task.train.y.slice([0, 0], [n, -1]) };
  const state = createProbeState(cfg.run.seeds.order);
  const fourier = p.fourier && cfg.task.kind === 'modular' ? { p: cfg.task.p } : false;
  const fourierRows = fourier ? { p: fourier.p, rowOffset: 0 } : undefined;
  const reader = graph ? graphProbeReader(model, graph.shape, batch, fourierRows, graph.weights, graph.fromStep) : undefined;
  // The step's graph reads the first-order probes with the step (graph-engine.ts) when they are
  // read at every probe step: not with an exact tr_h_sigma, whose steps take the deltas op by op.
  const firstOrder = p.gop.enabled || p.noise || fourier !== false;
  const stepReads = reader && firstOrder && !exactTrHSigma(cfg) ? { x: batch.x, y: batch.y, ...(fourierRows ? { fourier: fourierRows } : {}) } : undefined;
  const hessianOn = p.hessian.trace || p.hessian.top_eig || p.hessian.tr_h_sigma;
  const product = graph && hessianOn ? graphHvp(model, graph.shape, batch, graph.weights) : undefined;
  if (product && 'why' in product) log(`probes: Hessian-vector products op by op (${product.why})`);
  const hvp = product && 'hvp' in product ? product : undefined;
  let probeCalls = 0;
  const probe: Probe = () => {
    // Every probes.hessian.every-th probe step, counting from the first.
    const hessianNow = probeCalls++ % p.hessian.every === 0;
    return readProbes(model, task.perSampleLoss, batch, state, {
      gop: { enabled: p.gop.enabled, topK: p.gop.top_k, perLayer: p.gop.per_layer },
      noise: p.noise,
      hessian: hessianNow
        ? {
            trace: p.hessian.trace,
            topEig: p.hessian.top_eig,
            powerIters: p.hessian.power_iters,
            trHSigma: p.hessian.tr_h_sigma,
            trHSigmaSamples: p.hessian.tr_h_sigma_samples,
          }
        : {},
      fourier,
      ...(reader ? { reader } : {}),
      ...(hvp ? { hvp: hvp.hvp, weightedGradient: hvp.weightedGradient } : {}),
    });
  };
  return {
    probe,
    graphReads: reader !== undefined,
    ...(stepReads ? { stepReads } : {}),
    dispose: () => {
      reader?.dispose();
      hvp?.dispose();
    },
  };
}

export interface RunOptions {
  bus: Bus;
  codec: EventCodec;
  /** Partitions for topics this run creates (the CLI passes GROKSTREAM_PARTITIONS or --partitions). */
  partitions?: number;
  /** Continue this run from its latest checkpoint. */
  resumeRunId?: string;
  /** The new run's id (default newRunId(cfg.run.name)); ignored with resumeRunId. */
  runId?: string;
  /** Also append every event to this Avro object container file (grokstream replay reads it). */
  eventsFile?: string;
  /** Its block codec (default 'null'; 'deflate' for logs kept for long, such as recordings). */
  eventsFileCodec?: 'null' | 'deflate';
  /** The canonical JSON of the resolved config (config/load.ts). */
  configJson: string;
  /** Set by SIGINT/SIGTERM handlers: the loop stops at the next step boundary. */
  interrupted?: () => boolean;
  /** Hand the run off at the next step boundary: checkpointed, not finished (loop.ts: handOff). */
  handOff?: () => boolean;
  onStep?: (m: StepMetrics, stepsPerSecond: number) => void;
  log?: (line: string) => void;
}

export interface RunSummary extends LoopResult {
  runId: string;
  backend: BackendName;
  /** First step with train accuracy ≥ MEMORIZED_ACC (0.99; classification), if any. */
  memorizedAt: number | null;
  /** First step with test accuracy ≥ GENERALIZED_ACC (0.95), when it is at or after memorization (schemas/src/milestones.ts, grokkedStep). */
  grokkedAt: number | null;
  final: StepMetrics | undefined;
  /** With reason bus_outage: the file holding the unsent events (sent again by --resume). */
  spilledTo?: string;
  spilledEvents?: number;
  /** Events of an earlier outage re-sent before training went on. */
  resent?: number;
  /** The checkpoint step this run was resumed from (memorizedAt and grokkedAt count from there). */
  resumedFrom?: number;
}

/** A fresh run id: the config's run name, the start time and a random suffix. */
export function newRunId(name: string, now = new Date()): string {
  return `${name}-${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomUUID().slice(0, 6)}`;
}

/** The milestones of the run summary (schemas/src/milestones.ts). */
export const MEMORIZED_ACC = MEMORIZED_TRAIN_ACC;
export const GENERALIZED_ACC = GENERALIZED_TEST_ACC;

export async function runTraining(cfg: RunConfig, o: RunOptions): Promise<RunSummary> {
  const log = o.log ?? ((l: string) => console.error(l));
  const backend = await chooseBackend(cfg.run.backend === 'auto' ? undefined : cfg.run.backend);
  if (cfg.run.backend !== 'auto' && backend.name !== cfg.run.backend) {
    throw new Error(`backend ${cfg.run.backend} is not available: ${backend.skipped.map((s) => s.reason).join('; ')}`);
  }
  log(describeBackend(backend));

  const resume = o.resumeRunId ? latestCheckpoint(cfg.run.checkpoint.dir, o.resumeRunId) : undefined;
  if (o.resumeRunId && !resume) {
    throw new Error(`no checkpoint of run ${o.resumeRunId} under ${cfg.run.checkpoint.dir}; check --resume and run.checkpoint.dir`);
  }
  const checkpoint = resume ? loadCheckpoint(resume) : undefined;
  const runId = o.resumeRunId ?? o.runId ?? newRunId(cfg.run.name);
  if (checkpoint) log(`resuming ${runId} from step ${checkpoint.state.step} (${resume})`);

  const task = buildTask(cfg);
  const model = buildModel(cfg, task);
  const { optimizer, schedule } = buildOptimizer(cfg);
  log(`run ${runId}: ${task.description}; ${model.description}; ${model.params.reduce((n, p) => n + p.size, 0)} parameters`);
  // The step as one TensorFlow graph where it can be (README.md, "Native TensorFlow").
  const shape = mlpOptionsOf(cfg, task);
  const graphWhy = graphEngineProblem(backend.name, model, shape, task);
  if (cfg.run.graph_step === 'on' && graphWhy) throw new Error(`run.graph_step is on, but ${graphWhy}; set run.graph_step: auto`);
  // The graph step's weights, for the probe graphs (no read back from TensorFlow a probe step).
  let graphStep: GraphStepEngine | undefined;
  // The step's graph also measures the step, and reads the first-order probes when they are due.
  let probes: ReturnType<typeof probeRunner>;
  const engine =
    cfg.run.graph_step !== 'off' && !graphWhy
      ? (opt: Optimizer, initial: tf.Tensor[] | undefined) => {
          graphStep = graphEngine(model, shape!, optimizer, opt, { task, ...(initial ? { initial } : {}), ...(probes?.stepReads ? { probe: probes.stepReads } : {}) });
          return graphStep;
        }
      : undefined;
  log(`step: ${engine ? 'one TensorFlow graph a step (graph addon)' : `op by op (${cfg.run.graph_step === 'off' ? 'run.graph_step: off' : graphWhy})`}`);

  await o.bus.ensureTopics(standardTopics(o.partitions ?? DEFAULTS.partitions));
  const producer = await o.bus.producer();
  const publisher = new EventPublisher(producer, o.codec);
  const eventLog = o.eventsFile ? new EventLogWriter(o.eventsFile, { codec: o.eventsFileCodec ?? 'null' }) : undefined;
  // Staged: the next batch is encoded while the one before it is on the wire (emitter.ts).
  const emitter = new BoundedEmitter({ prepare: (events) => publisher.encode(events), send: (messages: OutgoingMessage[]) => publisher.send(TOPICS.events, messages) }, {
    capacity: cfg.emit.buffer,
    outageLimitMs: cfg.emit.outage_limit_s * 1000,
    // Recorded once, when accepted: a batch retried during an outage is not logged twice.
    onAccept: eventLog ? (e) => eventLog.append([e]) : undefined,
    log,
  });
  const control = listenForCommands({ bus: o.bus, codec: o.codec, deadLetters: producer, runId, obeyed: new Set(checkpoint?.state.obeyedCommands ?? []), log });
  control.noteStep(checkpoint?.state.step ?? 0);
  await control.start();
  if (cfg.run.stop_gate) {
    const { lag, timeout_ms } = cfg.run.stop_gate;
    log(
      `stop gate: a stop lands at most ${lag} step${lag === 1 ? '' : 's'} past the step that triggered it ` +
        `(each step waits up to ${timeout_ms} ms for a detector's verdict on the step ${lag === 0 ? 'just' : `${lag + 1} steps`} before it)`,
    );
  }

  let memorizedAt: number | null = null;
  let grokkedAt: number | null = null;
  /** The first step with test accuracy ≥ GENERALIZED_ACC, memorized or not (schemas/src/milestones.ts). */
  let generalizedAt: number | null = null;
  let final: StepMetrics | undefined;
  const base = { runId, backend: backend.name, memorizedAt, grokkedAt, final, resumedFrom: checkpoint?.state.step };
  /** Spills what the bus refused, so the run can be resumed with nothing lost. */
  const suspend = async (step: number, unsent: AnyEvent[], error: Error, resent = 0): Promise<RunSummary> => {
    const path = await writeSpill(cfg.run.checkpoint.dir, runId, unsent);
    log(`emit: ${unsent.length} unsent events spilled to ${path}`);
    return { ...base, reason: 'bus_outage', step, commandId: null, error, spilledTo: path, spilledEvents: unsent.length, resent };
  };
  let summarizer: GramSummarizer | undefined;
  try {
    // Events an earlier outage spilled go out first, in order, before the run goes on.
    const spills = checkpoint ? findSpills(cfg.run.checkpoint.dir, runId) : [];
    let resent = 0;
    if (spills.length > 0) {
      const old = await readSpills(spills);
      log(`re-sending ${old.length} events spilled during an outage (${spills.length} file${spills.length === 1 ? '' : 's'})`);
      try {
        for (const e of old) await emitter.emit(e, { record: false });
        await emitter.flush();
      } catch (err) {
        if (!(err instanceof BusOutageError)) throw err;
        const summary = await suspend(checkpoint!.state.step, emitter.drain(), err);
        removeSpills(spills); // their events are in the new spill file
        return summary;
      }
      removeSpills(spills);
      resent = old.length;
      const last = old[old.length - 1];
      if (last?.name === 'RunFinished') {
        log(`run ${runId} had finished (${last.value.reason}) before the outage: its events are all sent now`);
        return { ...base, reason: last.value.reason, step: last.value.step, commandId: last.value.command_id, resent };
      }
    }
    // A crash can leave steps past the checkpoint on the log: go on after them, without repeats.
    const tail = checkpoint ? await readRunTail(o.bus, o.codec, runId) : undefined;
    probes = probeRunner(
      cfg,
      task,
      model,
      engine ? { shape: shape!, weights: () => graphStep?.weights() ?? model.params.map((p) => p.dataSync() as Float32Array), fromStep: () => graphStep?.probeReading() } : undefined,
      log,
    );
    const probe = probes?.probe;
    // The probes' arithmetic in a worker thread, while the next step trains (probe-step.ts); inline
    // where the probe graph computes the Grams and their spectra (what is left takes ~0.1 ms, less
    // than the hop to a worker and back), unless an exact tr_h_sigma has steps read the rows op by op.
    summarizer = !probe ? undefined : probes?.graphReads && !exactTrHSigma(cfg) ? new InlineSummarizer() : new WorkerSummarizer();
    const result = await trainLoop({
      runId,
      task,
      model,
      optimizer,
      schedule,
      steps: cfg.run.steps,
      evalEvery: cfg.run.eval_every,
      batchSize: cfg.optimizer.batch_size,
      batchSwitch: cfg.optimizer.batch_switch
        ? { atStep: cfg.optimizer.batch_switch.at_step, batchSize: cfg.optimizer.batch_switch.batch_size }
        : undefined,
      seeds: cfg.run.seeds,
      probeEvery: cfg.probes.every,
      probe,
      summarizer,
      engine,
      emitter,
      stopRequested: () => control.stopRequested(),
      ...(cfg.run.stop_gate ? { stopGate: new StopGate({ lag: cfg.run.stop_gate.lag, timeoutMs: cfg.run.stop_gate.timeout_ms, judgedThrough: () => control.judgedThrough(), log }) } : {}),
      stopReceivedAt: () => control.receivedAtStep(),
      interrupted: o.interrupted,
      handOff: o.handOff,
      checkpoint: cfg.run.checkpoint,
      resume: checkpoint && tail ? { ...checkpoint, log: { lastSeq: tail.lastSeq, lastStep: tail.lastStep } } : undefined,
      started: { config_json: o.configJson, task: cfg.task.kind, backend: backend.name, grokstream_version: GROKSTREAM_VERSION, tags: cfg.run.tags },
      onStep: (m, rate) => {
        final = m;
        control.noteStep(m.step);
        if (memorizedAt === null && m.train_acc !== null && m.train_acc >= MEMORIZED_ACC) memorizedAt = m.step;
        if (generalizedAt === null && m.test_acc !== null && m.test_acc >= GENERALIZED_ACC) generalizedAt = m.step;
        grokkedAt = grokkedStep(memorizedAt, generalizedAt);
        o.onStep?.(m, rate);
      },
      log,
    });
    if (result.reason === 'bus_outage') return { ...(await suspend(result.step, result.unsent ?? [], result.error!, resent)), memorizedAt, grokkedAt, final };
    return { ...result, ...base, memorizedAt, grokkedAt, final, resent };
  } finally {
    await summarizer?.close();
    probes?.dispose();
    await control.stop();
    await producer.close();
    await eventLog?.close();
    task.dispose();
    model.dispose();
  }
}
