import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { useTestBackend } from '../testing-backend.ts';
import { applyOp, modularPairs, modularTask } from './modular.ts';
import { sparseParityTask } from './sparse-parity.ts';
import { deepLinearTask } from './deep-linear.ts';

beforeAll(async () => {
  await useTestBackend();
});

describe('modular arithmetic', () => {
  it('computes every op mod p', () => {
    expect(applyOp('add', 5, 4, 7)).toBe(2);
    expect(applyOp('sub', 2, 5, 7)).toBe(4);
    expect(applyOp('mul', 3, 5, 7)).toBe(1);
    expect(applyOp('poly', 2, 3, 7)).toBe((4 + 6 + 9) % 7);
    for (let b = 1; b < 7; b++) for (let a = 0; a < 7; a++) expect(applyOp('mul', applyOp('div', a, b, 7), b, 7)).toBe(a);
  });

  it('uses p² pairs, or p(p−1) for division (b ≠ 0)', () => {
    expect(modularPairs('add', 5)).toHaveLength(25);
    expect(modularPairs('div', 5)).toHaveLength(20);
    expect(modularPairs('div', 5).some(([, b]) => b === 0)).toBe(false);
  });

  it('splits the pairs by the data seed and encodes them one-hot', () => {
    const t = modularTask({ op: 'add', p: 7, trainFraction: 0.5, encoding: 'pair', seed: 3 });
    expect(t.train.x.shape).toEqual([25, 14]);
    expect(t.test.x.shape).toEqual([24, 14]);
    const x = t.train.x.arraySync() as number[][];
    const labels = t.train.labels!.arraySync() as number[];
    x.forEach((row, i) => {
      const a = row.slice(0, 7).indexOf(1);
      const b = row.slice(7).indexOf(1);
      expect(row.reduce((s, v) => s + v, 0)).toBe(2);
      expect(labels[i]).toBe((a + b) % 7);
    });
    const again = modularTask({ op: 'add', p: 7, trainFraction: 0.5, encoding: 'pair', seed: 3 });
    expect(again.train.labels!.arraySync()).toEqual(labels);
    const other = modularTask({ op: 'add', p: 7, trainFraction: 0.5, encoding: 'pair', seed: 4 });
    expect(other.train.x.arraySync()).not.toEqual(x);
    for (const task of [t, again, other]) task.dispose();
  });

  it('encodes sequences a, b, = for the transformer', () => {
    const t = modularTask({ op: 'add', p: 5, trainFraction: 0.5, encoding: 'sequence', seed: 0 });
    const row = (t.train.x.arraySync() as number[][])[0]!;
    expect(row).toHaveLength(18);
    expect(row.slice(12).indexOf(1)).toBe(5); // the '=' token
    t.dispose();
  });
});

describe('sparse parity', () => {
  it('labels 1 exactly when the secret bits multiply to −1', () => {
    const t = sparseParityTask({ nBits: 8, k: 3, nTrain: 200, nTest: 10, seed: 1 });
    const secret = /bits ([\d,]+)/.exec(t.description)![1]!.split(',').map(Number);
    expect(secret).toHaveLength(3);
    const x = t.train.x.arraySync() as number[][];
    const labels = t.train.labels!.arraySync() as number[];
    x.forEach((row, i) => expect(labels[i]).toBe(secret.reduce((p, j) => p * row[j]!, 1) < 0 ? 1 : 0));
    const ones = labels.filter((l) => l === 1).length;
    expect(ones).toBeGreaterThan(60);
    expect(ones).toBeLessThan(140);
    t.dispose();
  });
});

describe('deep linear teacher', () => {
  it('maps x through a diagonal teacher with the given singular values', () => {
    const t = deepLinearTask({
      inputDim: 4,
      outputDim: 3,
      teacher: 'diagonal',
      teacherScale: 2,
      singularValues: [3, 2, 1],
      nTrain: 50,
      nTest: 5,
      online: false,
      noiseStd: 0,
      seed: 0,
    });
    const x = t.train.x.arraySync() as number[][];
    const y = t.train.y.arraySync() as number[][];
    x.forEach((row, i) => {
      expect(y[i]![0]).toBeCloseTo(6 * row[0]!, 4);
      expect(y[i]![1]).toBeCloseTo(4 * row[1]!, 4);
      expect(y[i]![2]).toBeCloseTo(2 * row[2]!, 4);
    });
    t.dispose();
  });

  it('draws fresh data when online', () => {
    const t = deepLinearTask({ inputDim: 3, outputDim: 3, teacher: 'random', teacherScale: 1, nTrain: 10, nTest: 5, online: true, noiseStd: 0.1, seed: 0 });
    const a = t.resample!(4);
    const b = t.resample!(4);
    expect(a.x.arraySync()).not.toEqual(b.x.arraySync());
    tf.dispose([a.x, a.y, b.x, b.y]);
    t.dispose();
  });
});
