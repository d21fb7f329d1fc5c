// The optimisation step of one training step: forward pass, mean loss, gradients, the optimiser's
// update. Returns what the measurements need (docs/architecture.md, "Metrics").
import { tf } from './tf.ts';
import type { Model } from './models/model.ts';
import type { Task } from './tasks/task.ts';
import type { Optimizer } from './optim/optimizer.ts';
import type { Batch } from './batches.ts';
import { gradNormSq } from './metrics.ts';

export interface Update {
  /** The batch's mean loss before the update. */
  loss: tf.Scalar;
  /** The batch's outputs (logits) before the update. */
  out: tf.Tensor2D;
  /** Σ‖g‖² of the gradients applied. */
  gradNormSq: tf.Scalar;
  /** ‖Δθ‖² of the update. */
  updateNormSq: number;
  /** Frees loss, out and gradNormSq. */
  dispose(): void;
}

export function optimisationStep(model: Model, task: Task, opt: Optimizer, batch: Batch, lr: number): Update {
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
  return { loss, out, gradNormSq: gsq, updateNormSq, dispose: () => tf.dispose([loss, out, gsq]) };
}
