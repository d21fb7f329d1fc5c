import { tf } from '../tf.ts';

/**
 * Softmax cross-entropy per sample, from logits and one-hot targets. It is second-order-ops'
 * version: tf.logSoftmax loses its curvature under double backward in tfjs 4.22.
 */
export { crossEntropyPerSample } from '../second-order-ops.ts';

/** ½‖ŷ − y‖² per sample (the deep-linear literature's convention). */
export function halfSquaredErrorPerSample(pred: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.mul(0.5, tf.sum(tf.square(tf.sub(pred, y)), 1)) as tf.Tensor1D);
}
