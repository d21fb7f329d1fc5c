// The optimisation step of one training step: forward pass, mean loss, gradients, the optimiser's
// update. Returns what the measurements need (docs/architecture.md, "Metrics"). The gradients and
// the update are two calls so the loop can look for a stop between them (loop.ts).
import { tf } from './tf.ts';
import type { Model } from './models/model.ts';
import type { Task } from './tasks/task.ts';
import type { Optimizer } from './optim/optimizer.ts';
import type { Batch } from './batches.ts';
import { gradNormSq } from './metrics.ts';
import type { Measurements } from './measurements.ts';

/** What an eager step leaves for the measurements (measurements.ts reads the tensors). */
export interface StepTensors {
  /** The batch's mean loss before the update. */
  loss: tf.Scalar;
  /** The batch's outputs (logits) before the update. */
  out: tf.Tensor2D;
  /** Σ‖g‖² of the gradients applied. */
  gradNormSq: tf.Scalar;
  /** ‖Δθ‖² of the update. */
  updateNormSq: number;
  measured?: undefined;
  /** Frees loss, out and gradNormSq. */
  dispose(): void;
}

/** A step whose engine took the measurements with it (a graph step: graph/mlp-measures.ts). */
export interface MeasuredUpdate {
  measured: Measurements;
  /** ‖Δθ‖² of the update. */
  updateNormSq: number;
  dispose(): void;
}

export type Update = StepTensors | MeasuredUpdate;

/** The forward and backward passes of a step, before its update: what a late stop discards. */
export interface Gradients {
  loss: tf.Scalar;
  out: tf.Tensor2D;
  grads: tf.Tensor[];
  /** Frees everything (a step cancelled before its update). */
  dispose(): void;
}

export function gradientsOf(model: Model, task: Task, batch: Batch): Gradients {
  const { loss, grads, out } = tf.tidy(() => {
    let logits!: tf.Tensor2D;
    const { value, grads: g } = tf.variableGrads(() => {
      logits = tf.keep(model.forward(batch.x));
      return tf.mean(task.perSampleLoss(logits, batch.y)) as tf.Scalar;
    }, model.params);
    return { loss: value, grads: model.params.map((p) => g[p.name]!), out: logits };
  });
  return { loss, grads, out, dispose: () => tf.dispose([loss, out, ...grads]) };
}

/** The optimiser's update from a step's gradients (which it frees). */
export function applyUpdate(opt: Optimizer, g: Gradients, lr: number): StepTensors {
  const { loss, out, grads } = g;
  const gsq = tf.tidy(() => gradNormSq(grads));
  const updateNormSq = opt.apply(grads, lr);
  tf.dispose(grads);
  return { loss, out, gradNormSq: gsq, updateNormSq, dispose: () => tf.dispose([loss, out, gsq]) };
}

export function optimisationStep(model: Model, task: Task, opt: Optimizer, batch: Batch, lr: number): StepTensors {
  return applyUpdate(opt, gradientsOf(model, task, batch), lr);
}

/**
 * What the loop will do with a step, for an engine that does it with the step (a graph step,
 * graph/graph-engine.ts): evaluate the test set, read the probes at the new weights.
 */
export interface StepAsks {
  evaluate?: boolean;
  probe?: boolean;
}

/**
 * How the loop takes its optimisation steps: eagerly, op by op (this file), or as one TensorFlow
 * graph (graph/graph-engine.ts). Either way the model's variables hold the weights after a step,
 * so the measurements and the probes read them as they are.
 */
export interface StepEngine {
  /** Words for the run's log: how it steps. */
  readonly description: string;
  /**
   * One step; undefined when `cancelled` said so between the backward pass and the update (the
   * update is never applied). A graph step runs as one piece and asks after it ran, before its
   * new weights replace the old.
   */
  step(batch: Batch, lr: number, cancelled: () => boolean, asks?: StepAsks): Update | undefined;
  /** The optimizer's state up to date in `opt` (a checkpoint reads it there). */
  sync(): void;
  dispose(): void;
}

/** The eager engine: gradientsOf, then applyUpdate unless the step is cancelled in between. */
export function eagerEngine(model: Model, task: Task, opt: Optimizer): StepEngine {
  return {
    description: 'eager (op by op)',
    step: (batch, lr, cancelled) => {
      const gradients = gradientsOf(model, task, batch);
      if (cancelled()) {
        gradients.dispose();
        return undefined;
      }
      return applyUpdate(opt, gradients, lr);
    },
    sync: () => {},
    dispose: () => {},
  };
}
