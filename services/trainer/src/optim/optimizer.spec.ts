import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { useTestBackend } from '../testing-backend.ts';
import { optimizer, type OptimizerOptions } from './optimizer.ts';

beforeAll(async () => {
  await useTestBackend();
});

const base: OptimizerOptions = { kind: 'sgd', momentum: 0, nesterov: false, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };

/** Runs the optimizer on w (one scalar) with a fixed gradient sequence; returns the w values. */
function trajectory(o: OptimizerOptions, grads: number[], lr: number, w0 = 1): { ws: number[]; updates: number[] } {
  const w = tf.variable(tf.scalar(w0));
  const opt = optimizer([w], o);
  const ws: number[] = [];
  const updates: number[] = [];
  for (const g of grads) {
    const gt = tf.scalar(g);
    updates.push(Math.sqrt(opt.apply([gt], lr)));
    gt.dispose();
    ws.push(w.dataSync()[0]!);
  }
  opt.dispose();
  w.dispose();
  return { ws, updates };
}

describe('optimizers against hand-computed updates', () => {
  it('plain SGD, with L2 weight decay', () => {
    expect(trajectory(base, [1, 1], 0.1).ws.map((v) => +v.toFixed(6))).toEqual([0.9, 0.8]);
    // g + wd·w: 1 + 0.5·1 = 1.5 → 0.85; then 1 + 0.5·0.85 = 1.425 → 0.7075
    expect(trajectory({ ...base, weightDecay: 0.5 }, [1, 1], 0.1).ws[1]).toBeCloseTo(0.7075, 5);
  });

  it('SGD with momentum and Nesterov', () => {
    // m1 = 1, w = 0.9; m2 = 0.9 + 1 = 1.9, w = 0.71
    expect(trajectory({ ...base, momentum: 0.9 }, [1, 1], 0.1).ws[1]).toBeCloseTo(0.71, 5);
    // Nesterov: step g + μ·m: 1 + 0.9·1 = 1.9 → 0.81; m2 = 1.9 → 1 + 0.9·1.9 = 2.71 → 0.539
    expect(trajectory({ ...base, momentum: 0.9, nesterov: true }, [1, 1], 0.1).ws[1]).toBeCloseTo(0.539, 5);
  });

  it('Adam takes a bias-corrected step of about lr per coordinate', () => {
    const { ws, updates } = trajectory({ ...base, kind: 'adam' }, [2, 2, 2], 0.01);
    expect(ws[0]).toBeCloseTo(0.99, 5);
    expect(ws[2]).toBeCloseTo(0.97, 5);
    expect(updates[0]).toBeCloseTo(0.01, 5);
  });

  it('AdamW decays the weight apart from the gradient', () => {
    const adam = trajectory({ ...base, kind: 'adam', weightDecay: 0.1 }, [0, 0], 0.01);
    const adamw = trajectory({ ...base, kind: 'adamw', weightDecay: 0.1 }, [0, 0], 0.01);
    // AdamW with zero gradient: w ← w(1 − lr·wd) each step.
    expect(adamw.ws[1]).toBeCloseTo(0.999 * 0.999, 6);
    // Adam's L2 goes through the normalised step: about lr per step.
    expect(adam.ws[0]).toBeCloseTo(0.99, 4);
  });

  it('restores its state from a checkpoint', () => {
    const w = tf.variable(tf.scalar(1));
    const a = optimizer([w], { ...base, kind: 'adam' });
    const g = tf.scalar(1);
    a.apply([g], 0.1);
    const saved = a.state().slots.map((s) => s.dataSync() as Float32Array);
    const b = optimizer([w], { ...base, kind: 'adam' });
    b.load(a.updates, saved);
    expect(b.updates).toBe(1);
    expect(b.state().slots.map((s) => s.dataSync()[0])).toEqual(saved.map((s) => s[0]));
    expect(() => b.load(1, [new Float32Array(1)])).toThrow(/2 optimizer slots|expected 2/);
    a.dispose();
    b.dispose();
    tf.dispose([w, g]);
  });

  it.each(['sgd', 'adam', 'adamw'] as const)('%s over several parameters of different shapes equals the per-parameter update (float64 reference)', (kind) => {
    const shapes = [[3, 4], [4], [2, 2, 2]];
    const o: OptimizerOptions = { ...base, kind, momentum: kind === 'sgd' ? 0.9 : 0, nesterov: kind === 'sgd', beta2: 0.98, weightDecay: 0.3 };
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const w0 = shapes.map((sh) => Array.from({ length: sh.reduce((a, b) => a * b, 1) }, rand));
    const params = shapes.map((sh, i) => tf.variable(tf.tensor(w0[i]!, sh)));
    const opt = optimizer(params, o);
    // Reference: the textbook update, per coordinate, in float64.
    const w = w0.map((x) => [...x]);
    const m = w0.map((x) => x.map(() => 0));
    const v = w0.map((x) => x.map(() => 0));
    const lr = 0.05;
    for (let t = 1; t <= 5; t++) {
      const g = w0.map((x) => x.map(rand));
      let normSq = 0;
      w.forEach((wi, i) =>
        wi.forEach((_, j) => {
          let gj = g[i]![j]!;
          if (kind !== 'adamw') gj += o.weightDecay * w[i]![j]!;
          let d: number;
          if (kind === 'sgd') {
            m[i]![j] = o.momentum * m[i]![j]! + gj;
            d = -lr * (gj + o.momentum * m[i]![j]!);
          } else {
            m[i]![j] = o.beta1 * m[i]![j]! + (1 - o.beta1) * gj;
            v[i]![j] = o.beta2 * v[i]![j]! + (1 - o.beta2) * gj * gj;
            d = (-lr * (m[i]![j]! / (1 - o.beta1 ** t))) / (Math.sqrt(v[i]![j]! / (1 - o.beta2 ** t)) + o.eps);
            if (kind === 'adamw') d -= lr * o.weightDecay * w[i]![j]!;
          }
          w[i]![j]! += d;
          normSq += d * d;
        }),
      );
      const gt = shapes.map((sh, i) => tf.tensor(g[i]!, sh));
      const got = opt.apply(gt, lr);
      tf.dispose(gt);
      expect(Math.abs(got - normSq)).toBeLessThan(1e-5 * normSq);
      params.forEach((p, i) => Array.from(p.dataSync()).forEach((x, j) => expect(Math.abs(x - w[i]![j]!)).toBeLessThan(1e-5)));
    }
    // The slots are one flat vector each; a checkpoint of the per-parameter layout still loads.
    const flatSlots = opt.state().slots.map((sl) => sl.dataSync() as Float32Array);
    expect(opt.state().slots.every((sl) => sl.size === 12 + 4 + 8)).toBe(true);
    const perParam = flatSlots.flatMap((f) => [f.slice(0, 12), f.slice(12, 16), f.slice(16)]);
    const again = optimizer(params, o);
    again.load(5, perParam);
    expect(again.state().slots.map((sl) => Array.from(sl.dataSync()))).toEqual(flatSlots.map((f) => Array.from(f)));
    expect(() => again.load(5, perParam.slice(1))).toThrow(/expected \d+ \(or \d+, one per parameter\)/);
    again.dispose();
    opt.dispose();
    tf.dispose(params);
  });
});
