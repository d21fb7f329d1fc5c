// Sparse parity (Barak et al. 2022): y = product of k hidden bits of an n-bit ±1 string.
import { tf } from '../tf.ts';
import { Rng } from '../random.ts';
import { crossEntropyPerSample } from './losses.ts';
import type { Split, Task } from './task.ts';

export interface SparseParityOptions {
  nBits: number;
  k: number;
  nTrain: number;
  nTest: number;
  seed: number;
}

export function sparseParityTask(o: SparseParityOptions): Task {
  const rng = new Rng(o.seed);
  // The relevant bits are drawn with the data seed, so the learner cannot assume the first k.
  const relevant = rng.shuffle(Array.from({ length: o.nBits }, (_, i) => i)).slice(0, o.k).sort((a, b) => a - b);
  const make = (n: number): Split => {
    const x = new Float32Array(n * o.nBits);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let prod = 1;
      for (let j = 0; j < o.nBits; j++) x[i * o.nBits + j] = rng.next() < 0.5 ? -1 : 1;
      for (const j of relevant) prod *= x[i * o.nBits + j]!;
      labels[i] = prod < 0 ? 1 : 0; // 1 when the parity of the secret bits is odd
    }
    const lab = tf.tensor1d(labels, 'int32');
    return {
      x: tf.tensor2d(x, [n, o.nBits]),
      y: tf.tidy(() => tf.cast(tf.oneHot(lab, 2), 'float32') as tf.Tensor2D),
      labels: lab,
    };
  };
  const train = make(o.nTrain);
  const test = make(o.nTest);
  return {
    kind: 'classification',
    description: `sparse parity: ${o.k} of ${o.nBits} bits (bits ${relevant.join(',')}), ${o.nTrain} training samples`,
    inputDim: o.nBits,
    outputDim: 2,
    train,
    test,
    perSampleLoss: crossEntropyPerSample,
    dispose: () => tf.dispose([train.x, train.y, train.labels!, test.x, test.y, test.labels!]),
  };
}
