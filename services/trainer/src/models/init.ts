import { tf } from '../tf.ts';

/**
 * The seed to give tfjs's random ops. tfjs reads a seed of 0 as "no seed" (`seed ? seed :
 * Math.random()`), so the layer seeded 0 (the first layer of every run with seed 0) was drawn
 * at random in every process; 0 becomes 0.5, which no integer seed is.
 */
export function tfSeed(seed: number): number {
  return seed === 0 ? 0.5 : seed;
}

/** W ~ N(0, scale² / fan_in), seeded: the init seed plus the layer's index keeps layers independent. */
export function gaussianWeight(name: string, shape: [number, number], scale: number, seed: number): tf.Variable {
  const std = scale / Math.sqrt(shape[0]);
  // Inside tidy, so the initial tensor is released once the variable holds the values.
  return tf.tidy(() => tf.variable(tf.randomNormal(shape, 0, std, 'float32', tfSeed(seed)), true, name));
}

export function zeroBias(name: string, size: number): tf.Variable {
  return tf.tidy(() => tf.variable(tf.zeros([size]), true, name));
}

/** Variable names are global in tfjs: make them unique per model instance. */
let instance = 0;
export function nextModelId(): number {
  return instance++;
}
