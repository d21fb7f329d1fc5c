// Applying dense layers while recording a ForwardTrace (see model.ts for the dz convention).
import { tf } from '../tf.ts';
import type { DenseLayer, ForwardTrace } from './model.ts';

/**
 * A recorder for one forward pass: apply(layer, a, positions) computes z = aW (+ b) (+ dz[k] for
 * the k-th application) and records it; `records` is the trace's dense list.
 */
export function denseRecorder(dz?: tf.Tensor2D[]) {
  const records: ForwardTrace['dense'] = [];
  const apply = (l: DenseLayer, a: tf.Tensor2D, positions: number): tf.Tensor2D => {
    let z = tf.matMul(a, l.weight) as tf.Tensor2D;
    if (l.bias) z = tf.add(z, l.bias) as tf.Tensor2D;
    if (dz) z = tf.add(z, dz[records.length]!) as tf.Tensor2D;
    records.push({ layer: l, input: a, z, positions });
    return z;
  };
  return { records, apply };
}
