import { tf } from '../tf.ts';

/** Softmax cross-entropy per sample, from logits and one-hot targets. */
export function crossEntropyPerSample(logits: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(logits)), 1)) as tf.Tensor1D);
}

/** ½‖ŷ − y‖² per sample (the deep-linear literature's convention). */
export function halfSquaredErrorPerSample(pred: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.mul(0.5, tf.sum(tf.square(tf.sub(pred, y)), 1)) as tf.Tensor1D);
}
