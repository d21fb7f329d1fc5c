// Deep linear teacher–student regression (Saxe et al.; S3): y = T x + noise, learned by a
// product of matrices. A teacher with separated singular values gives stage-like plateaus.
import { tf } from '../tf.ts';
import { Rng } from '../random.ts';
import { halfSquaredErrorPerSample } from './losses.ts';
import type { Split, Task } from './task.ts';

export interface DeepLinearTaskOptions {
  inputDim: number;
  outputDim: number;
  /** diagonal: T = diag(singularValues) (padded with zeros); random: Gaussian entries × scale. */
  teacher: 'diagonal' | 'random';
  teacherScale: number;
  /** Singular values of a diagonal teacher (times teacherScale); default the ramp (k, k−1, ..., 1)/k. */
  singularValues?: number[];
  nTrain: number;
  nTest: number;
  online: boolean;
  noiseStd: number;
  seed: number;
}

export function teacherMatrix(o: DeepLinearTaskOptions, rng: Rng): Float32Array {
  const t = new Float32Array(o.inputDim * o.outputDim); // [in, out]: y = x T
  const k = Math.min(o.inputDim, o.outputDim);
  if (o.teacher === 'diagonal') {
    const s = o.singularValues ?? Array.from({ length: k }, (_, i) => (k - i) / k);
    for (let i = 0; i < Math.min(k, s.length); i++) t[i * o.outputDim + i] = o.teacherScale * s[i]!;
  } else {
    for (let i = 0; i < t.length; i++) t[i] = (rng.normal() * o.teacherScale) / Math.sqrt(o.inputDim);
  }
  return t;
}

export function deepLinearTask(o: DeepLinearTaskOptions): Task {
  const rng = new Rng(o.seed);
  const teacher = tf.tensor2d(teacherMatrix(o, rng), [o.inputDim, o.outputDim]);
  const make = (n: number): Split => {
    const x = new Float32Array(n * o.inputDim);
    for (let i = 0; i < x.length; i++) x[i] = rng.normal();
    const noise = new Float32Array(n * o.outputDim);
    if (o.noiseStd > 0) for (let i = 0; i < noise.length; i++) noise[i] = rng.normal() * o.noiseStd;
    const xt = tf.tensor2d(x, [n, o.inputDim]);
    const y = tf.tidy(() => tf.add(tf.matMul(xt, teacher), tf.tensor2d(noise, [n, o.outputDim])) as tf.Tensor2D);
    return { x: xt, y };
  };
  const train = make(o.nTrain);
  const test = make(o.nTest);
  return {
    kind: 'regression',
    description: `deep linear teacher (${o.teacher}, ${o.inputDim}→${o.outputDim})${o.online ? ', online data' : ''}`,
    inputDim: o.inputDim,
    outputDim: o.outputDim,
    train,
    test,
    perSampleLoss: halfSquaredErrorPerSample,
    resample: o.online ? (n) => make(n) : undefined,
    dispose: () => tf.dispose([teacher, train.x, train.y, test.x, test.y]),
  };
}
