// A task is its data plus how to score predictions. Inputs are already encoded as float features
// for the model kind the task was built for.
import type { tf } from '../tf.ts';

export interface Split {
  x: tf.Tensor2D;
  /** Classification: one-hot targets [N, classes]. Regression: targets [N, out]. */
  y: tf.Tensor2D;
  /** Classification: class indices [N], for accuracy. */
  labels?: tf.Tensor1D;
}

export interface Task {
  readonly kind: 'classification' | 'regression';
  readonly description: string;
  readonly inputDim: number;
  readonly outputDim: number;
  train: Split;
  test: Split;
  /** Per-sample losses [N]: softmax cross-entropy, or ½‖ŷ − y‖² for regression. */
  perSampleLoss(output: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D;
  /** Fresh training data for online tasks (deep linear, online: true); undefined for fixed sets. */
  resample?(n: number): Split;
  dispose(): void;
}
