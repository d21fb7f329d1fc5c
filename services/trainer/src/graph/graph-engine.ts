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
import { MlpGraphStep, graphStepProblem, type MlpShape } from './mlp-step.ts';

/** Why a run with this backend, model and task steps op by op, or undefined when a graph can step it. */
export function graphEngineProblem(backend: BackendName, model: Model, shape: MlpShape | undefined, task: Task): string | undefined {
  if (backend !== 'tensorflow') return `the ${backend} backend steps op by op`;
  if (!shape) return `${model.description} has no graph step (the MLP has)`;
  // The graph's loss is the softmax cross-entropy: a regression task (squared error) steps op by op.
  if (task.perSampleLoss !== crossEntropyPerSample) return `the graph step has the cross-entropy loss only (the ${task.kind} task has its own)`;
  return graphStepProblem(shape);
}

/** A graph engine also lends its weights (the model's, in model.params order) without a read back from TensorFlow. */
export interface GraphStepEngine extends StepEngine {
  weights(): Float32Array[];
}

export function graphEngine(model: Model, shape: MlpShape, options: OptimizerOptions, opt: Optimizer): GraphStepEngine {
  const { slots, updates } = opt.state();
  const graph = new MlpGraphStep(shape, options, {
    params: model.params.map((p) => p.dataSync() as Float32Array),
    slots: slots.map((s) => s.dataSync() as Float32Array),
    updates,
  });
  // The full batch is the same tensor every step: its values are read once.
  let last: { x: tf.Tensor; y: tf.Tensor; xs: Float32Array; ys: Float32Array } | undefined;
  const valuesOf = (batch: Batch) => {
    if (!last || last.x !== batch.x || last.y !== batch.y) last = { x: batch.x, y: batch.y, xs: batch.x.dataSync() as Float32Array, ys: batch.y.dataSync() as Float32Array };
    return last;
  };
  return {
    description: 'one TensorFlow graph a step (graph addon)',
    step: (batch, lr, cancelled): Update | undefined => {
      const { xs, ys } = valuesOf(batch);
      // A StopRun that came in while the graph ran cancels the step: its update is never applied.
      const r = graph.step(xs, ys, lr, cancelled);
      if (!r) return undefined;
      // Copies: a backend may keep the array it was given, and the graph step reuses its arrays.
      tf.tidy(() => model.params.forEach((p, i) => p.assign(tf.tensor(graph.params[i]!.slice(), p.shape))));
      const loss = tf.scalar(r.loss);
      const out = tf.tensor2d(r.logits.slice(), [batch.y.shape[0], batch.y.shape[1]]);
      const gradNormSq = tf.scalar(r.gradNormSq);
      return { loss, out, gradNormSq, updateNormSq: r.updateNormSq, dispose: () => tf.dispose([loss, out, gradNormSq]) };
    },
    weights: () => graph.params,
    sync: () => opt.load(graph.updates, graph.slots),
    dispose: () => graph.dispose(),
  };
}
