import { tf } from '../tf.ts';

/** W ~ N(0, scale² / fan_in), seeded: the init seed plus the layer's index keeps layers independent. */
export function gaussianWeight(name: string, shape: [number, number], scale: number, seed: number): tf.Variable {
  const std = scale / Math.sqrt(shape[0]);
  // Inside tidy, so the initial tensor is released once the variable holds the values.
  return tf.tidy(() => tf.variable(tf.randomNormal(shape, 0, std, 'float32', seed), true, name));
}

export function zeroBias(name: string, size: number): tf.Variable {
  return tf.tidy(() => tf.variable(tf.zeros([size]), true, name));
}

/** Variable names are global in tfjs: make them unique per model instance. */
let instance = 0;
export function nextModelId(): number {
  return instance++;
}
