// Modular arithmetic (Power et al. 2022): learn c = a ∘ b mod p from a fraction of all pairs.
import { tf } from '../tf.ts';
import { Rng } from '../random.ts';
import { crossEntropyPerSample } from './losses.ts';
import type { Split, Task } from './task.ts';

export type ModularOp = 'add' | 'sub' | 'mul' | 'div' | 'poly';

export interface ModularOptions {
  op: ModularOp;
  p: number;
  trainFraction: number;
  /** pair: [a one-hot | b one-hot] (MLP); sequence: tokens a, b, '=' one-hot over p+1 (transformer). */
  encoding: 'pair' | 'sequence';
  seed: number;
}

function modPow(base: number, exp: number, p: number): number {
  let r = 1;
  let b = base % p;
  let e = exp;
  while (e > 0) {
    if (e & 1) r = (r * b) % p;
    b = (b * b) % p;
    e >>= 1;
  }
  return r;
}

export function applyOp(op: ModularOp, a: number, b: number, p: number): number {
  switch (op) {
    case 'add':
      return (a + b) % p;
    case 'sub':
      return (((a - b) % p) + p) % p;
    case 'mul':
      return (a * b) % p;
    case 'div':
      // a / b = a · b^(p−2) (Fermat), defined for b ≠ 0 only.
      return (a * modPow(b, p - 2, p)) % p;
    case 'poly':
      return (a * a + a * b + b * b) % p;
  }
}

/** All (a, b) pairs the op is defined on: b ≠ 0 for div. */
export function modularPairs(op: ModularOp, p: number): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  for (let a = 0; a < p; a++) for (let b = op === 'div' ? 1 : 0; b < p; b++) pairs.push([a, b]);
  return pairs;
}

export const OP_SYMBOL: Record<ModularOp, string> = { add: '+', sub: '−', mul: '×', div: '÷', poly: 'a²+ab+b²' };

export function modularTask(o: ModularOptions): Task {
  const pairs = new Rng(o.seed).shuffle(modularPairs(o.op, o.p));
  const nTrain = Math.round(pairs.length * o.trainFraction);
  if (nTrain < 1 || nTrain >= pairs.length) {
    throw new Error(`train_fraction ${o.trainFraction} leaves no training or no test pairs out of ${pairs.length}`);
  }
  const width = o.encoding === 'pair' ? 2 * o.p : 3 * (o.p + 1);
  const encode = (subset: Array<[number, number]>): Split => {
    const x = new Float32Array(subset.length * width);
    const labels = new Int32Array(subset.length);
    subset.forEach(([a, b], i) => {
      if (o.encoding === 'pair') {
        x[i * width + a] = 1;
        x[i * width + o.p + b] = 1;
      } else {
        const t = o.p + 1;
        x[i * width + a] = 1;
        x[i * width + t + b] = 1;
        x[i * width + 2 * t + o.p] = 1; // '=' token
      }
      labels[i] = applyOp(o.op, a, b, o.p);
    });
    const lab = tf.tensor1d(labels, 'int32');
    return {
      x: tf.tensor2d(x, [subset.length, width]),
      y: tf.tidy(() => tf.cast(tf.oneHot(lab, o.p), 'float32') as tf.Tensor2D),
      labels: lab,
    };
  };
  const train = encode(pairs.slice(0, nTrain));
  const test = encode(pairs.slice(nTrain));
  return {
    kind: 'classification',
    description: `(a ${OP_SYMBOL[o.op]} b) mod ${o.p}, ${nTrain}/${pairs.length} pairs for training`,
    inputDim: width,
    outputDim: o.p,
    train,
    test,
    perSampleLoss: crossEntropyPerSample,
    dispose: () => tf.dispose([train.x, train.y, train.labels!, test.x, test.y, test.labels!]),
  };
}
