import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from './tf.ts';
import { useTestBackend } from './testing-backend.ts';
import { BatchSource } from './batches.ts';
import { Rng } from './random.ts';
import { modularTask } from './tasks/modular.ts';

describe('BatchSource', () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  const task = () => modularTask({ op: 'add', p: 7, trainFraction: 0.5, encoding: 'pair', seed: 1 });

  it('resumed from its snapshot and offset (a checkpoint), gives the batches the uninterrupted source gives, across epochs', () => {
    const t = task();
    const rows = (b: { x: tf.Tensor2D; release(): void }) => {
      const v = Array.from(b.x.dataSync());
      b.release();
      return v;
    };
    const straight = new BatchSource(t, new Rng(11), 5);
    const expected = Array.from({ length: 12 }, (_, i) => rows(straight.next(i + 1)));
    for (const at of [0, 1, 3, 4, 7]) {
      const first = new BatchSource(t, new Rng(11), 5);
      for (let step = 1; step <= at; step++) first.next(step).release();
      const resumed = new BatchSource(t, new Rng(first.snapshot), 5, undefined, first.offset);
      const rest = Array.from({ length: 12 - at }, (_, i) => rows(resumed.next(at + i + 1)));
      expect(rest, `resumed after step ${at}`).toEqual(expected.slice(at));
    }
    t.dispose();
  });

  it('gives the whole train set as it is for full batches (nothing to free), and minibatches that cover it once per epoch', () => {
    const t = task();
    const n = t.train.x.shape[0];
    const full = new BatchSource(t, new Rng(3), 'full').next(1);
    expect(full.x).toBe(t.train.x);
    const before = tf.memory().numTensors;
    full.release();
    expect(tf.memory().numTensors).toBe(before);

    const source = new BatchSource(t, new Rng(3), 4);
    const seen: number[] = [];
    for (let step = 1; step <= Math.floor(n / 4); step++) {
      const b = source.next(step);
      expect(b.x.shape).toEqual([4, t.train.x.shape[1]]);
      seen.push(...(b.labels!.dataSync() as Int32Array));
      b.release();
    }
    // Each sample once per epoch: the labels seen are a sub-multiset of the train labels.
    const all = [...(t.train.labels!.dataSync() as Int32Array)].sort();
    expect(seen.length).toBe(Math.floor(n / 4) * 4);
    for (const l of seen) {
      const i = all.indexOf(l);
      expect(i).toBeGreaterThanOrEqual(0);
      all.splice(i, 1);
    }
    t.dispose();
  });

  it('is the same sequence for the same order seed, and frees what it made', () => {
    const t = task();
    const labels = (seed: number) => {
      const s = new BatchSource(t, new Rng(seed), 5);
      return Array.from({ length: 3 }, (_, i) => {
        const b = s.next(i + 1);
        const v = [...(b.labels!.dataSync() as Int32Array)];
        b.release();
        return v;
      });
    };
    const before = tf.memory().numTensors;
    expect(labels(9)).toEqual(labels(9));
    expect(labels(9)).not.toEqual(labels(10));
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
  });

  it('switches size at batch_switch.at_step (0-based: update at_step + 1 is the first at the new size)', () => {
    const t = task();
    const s = new BatchSource(t, new Rng(1), 4, { atStep: 10, batchSize: 'full' });
    expect(s.sizeAt(10)).toBe(4);
    expect(s.sizeAt(11)).toBe('full');
    t.dispose();
  });
});
