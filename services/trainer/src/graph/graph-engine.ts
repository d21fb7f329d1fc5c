// The loop's optimisation step as one TensorFlow graph (update.ts's StepEngine, on mlp-step.ts):
// the MLP on native TensorFlow with the graph addon. The weights and the optimizer's slots live in
// the graph step's arrays; after each step the weights go back into the model's variables (the
// measurements, the probes and the test evaluation read them there), and the slots into the
// eager optimizer when a checkpoint asks (sync).
import { tf } from '../tf.ts';
import type { Model } from '../models/model.ts';
import type { Optimizer, OptimizerOptions } from '../optim/optimizer.ts';
import type { Batch } from '../batches.ts';
import type { StepEngine, Update } from '../update.ts';
import type { Task } from '../tasks/task.ts';
import type { BackendName } from '../tf.ts';
import { crossEntropyPerSample } from '../second-order-ops.ts';
import { MlpGraphStep, graphStepProblem, type MlpShape, type StepExtras } from './mlp-step.ts';
import type { ProbeGraphReading } from './mlp-probes.ts';

/** A classification batch's class indices (int32), for the graph's train accuracy. */
function labelsOf(batch: Batch): Int32Array {
  if (!batch.labels) throw new Error('a classification batch without labels: the graph step measures its train accuracy from them');
  return Int32Array.from(batch.labels.dataSync());
}

/** Why a run with this backend, model and task steps op by op, or undefined when a graph can step it. */
export function graphEngineProblem(backend: BackendName, model: Model, shape: MlpShape | undefined, task: Task): string | undefined {
  if (backend !== 'tensorflow') return `the ${backend} backend steps op by op`;
  if (!shape) return `${model.description} has no graph step (the MLP has)`;
  // The graph's loss is the softmax cross-entropy: a regression task (squared error) steps op by op.
  if (task.perSampleLoss !== crossEntropyPerSample) return `the graph step has the cross-entropy loss only (the ${task.kind} task has its own)`;
  return graphStepProblem(shape);
}

/**
 * A graph engine also lends its weights (the model's, in model.params order) without a read back
 * from TensorFlow, and the probe reading its last step took (StepAsks.probe), if it took one.
 */
export interface GraphStepEngine extends StepEngine {
  weights(): Float32Array[];
  probeReading(): ProbeGraphReading | undefined;
}

/**
 * What the step's graph does besides the step (mlp-step.ts, StepExtras): with `task`, the loop's
 * measurements (mlp-measures.ts; not for a model with diagnostics of its own, which are eager);
 * with `probe`, the first-order probes on the probe batch when a step asks.
 */
export interface GraphEngineExtras {
  task?: Task;
  /** The weights at initialisation, for init_distance (absent on a resumed run). */
  initial?: tf.Tensor[];
  probe?: { x: tf.Tensor; y: tf.Tensor; fourier?: { p: number; rowOffset: number } };
}

const floats = (t: tf.Tensor) => t.dataSync() as Float32Array;

export function graphEngine(model: Model, shape: MlpShape, options: OptimizerOptions, opt: Optimizer, extras: GraphEngineExtras = {}): GraphStepEngine {
  const { slots, updates } = opt.state();
  const { task } = extras;
  const measuring = task !== undefined && !model.diagnostics;
  const lastWeight = model.params.indexOf(model.denseLayers[model.denseLayers.length - 1]!.weight as tf.Variable);
  if (measuring && lastWeight < 0) throw new Error(`${model.description}: its last dense layer's weight is not among its parameters`);
  const classification = task?.kind === 'classification';
  if (measuring && classification && !task.test.labels) throw new Error(`${task.description}: a classification task without test labels`);
  const stepExtras: StepExtras = {
    ...(measuring
      ? {
          measure: {
            classification,
            test: { x: floats(task.test.x), y: floats(task.test.y), ...(task.test.labels ? { labels: Int32Array.from(task.test.labels.dataSync()) } : {}) },
            ...(extras.initial ? { initial: extras.initial.map(floats) } : {}),
          },
        }
      : {}),
    ...(extras.probe ? { probe: { x: floats(extras.probe.x), y: floats(extras.probe.y), ...(extras.probe.fourier ? { fourier: extras.probe.fourier } : {}) } } : {}),
  };
  const graph = new MlpGraphStep(
    shape,
    options,
    {
      params: model.params.map(floats),
      slots: slots.map(floats),
      updates,
    },
    {},
    stepExtras,
  );
  // The full batch is the same tensor every step: its values are read once.
  let last: { x: tf.Tensor; y: tf.Tensor; xs: Float32Array; ys: Float32Array; labels?: Int32Array } | undefined;
  const valuesOf = (batch: Batch) => {
    if (!last || last.x !== batch.x || last.y !== batch.y) {
      last = { x: batch.x, y: batch.y, xs: floats(batch.x), ys: floats(batch.y), ...(measuring && classification ? { labels: labelsOf(batch) } : {}) };
    }
    return last;
  };
  return {
    description: 'one TensorFlow graph a step (graph addon)',
    step: (batch, lr, cancelled, asks = {}): Update | undefined => {
      const { xs, ys, labels } = valuesOf(batch);
      // A StopRun that came in while the graph ran cancels the step: its update is never applied.
      const r = graph.step(xs, ys, lr, cancelled, { ...asks, ...(labels ? { labels } : {}) });
      if (!r) return undefined;
      // Copies: a backend may keep the array it was given, and the graph step reuses its arrays.
      tf.tidy(() => model.params.forEach((p, i) => p.assign(tf.tensor(graph.params[i]!.slice(), p.shape))));
      const g = r.measures;
      if (g) {
        // Measured in the graph: no tensors for the measurements to read.
        const measured = {
          trainLoss: r.loss,
          trainAcc: g.trainAcc,
          testLoss: g.testLoss,
          testAcc: g.testAcc,
          softmaxCollapse: g.softmaxCollapse,
          gradNormSq: r.gradNormSq,
          norms: g.norms,
          lastLayerNorm: g.norms[lastWeight]!,
          initDistance: g.initDistance,
          diagnostics: {},
        };
        return { measured, updateNormSq: r.updateNormSq, dispose: () => {} };
      }
      const loss = tf.scalar(r.loss);
      const out = tf.tensor2d(r.logits.slice(), [batch.y.shape[0], batch.y.shape[1]]);
      const gradNormSq = tf.scalar(r.gradNormSq);
      return { loss, out, gradNormSq, updateNormSq: r.updateNormSq, dispose: () => tf.dispose([loss, out, gradNormSq]) };
    },
    weights: () => graph.params,
    probeReading: () => graph.probeReading(),
    sync: () => opt.load(graph.updates, graph.slots),
    dispose: () => graph.dispose(),
  };
}
