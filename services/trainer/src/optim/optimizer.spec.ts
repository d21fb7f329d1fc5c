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
});
