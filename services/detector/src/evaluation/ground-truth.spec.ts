import { describe, expect, it } from 'vitest';
import { exampleStepMetrics } from '@grokstream/schemas';
import { groundTruth } from './ground-truth.ts';

/** Train fitted by `memorize`; test flat at 0.05 until `hinge`, then a straight rise to 1 over `rise` steps. */
function curve(o: { memorize: number; hinge: number | null; rise?: number; total: number; loss?: (step: number) => number }) {
  return Array.from({ length: o.total }, (_, i) => {
    const step = i + 1;
    const test = o.hinge === null || step < o.hinge ? 0.05 : Math.min(1, 0.05 + (0.95 * (step - o.hinge)) / (o.rise ?? 100));
    return exampleStepMetrics({ run_id: 't', step, train_acc: Math.min(1, step / o.memorize), test_acc: test, train_loss: o.loss?.(step) ?? 1 / step });
  });
}

describe('ground truth from a run’s own accuracies', () => {
  it('finds memorization, the hinge of the rise, the grok step, and labels every step', () => {
    const t = groundTruth(curve({ memorize: 100, hinge: 400, rise: 100, total: 700 }));
    expect(t).toMatchObject({ memorizedAt: 99, groks: true, hopeless: false, divergedAt: null }); // 99/100 = 0.99
    expect(Math.abs(t.onset! - 400)).toBeLessThanOrEqual(2);
    expect(t.grokkedAt).toBe(495); // 0.05 + 0.95 × 95/100 = 0.9525
    const at = (step: number) => t.labels[step - 1];
    expect([at(50), at(150), at(300), at(450), at(600)]).toEqual(['WARMUP', 'MEMORIZATION', 'PLATEAU', 'GROKKING', 'CONVERGED']);
  });

  it('calls a memorized run that never gets halfway to 0.95 hopeless, and one at 0.6 not', () => {
    expect(groundTruth(curve({ memorize: 100, hinge: null, total: 1000 }))).toMatchObject({ hopeless: true, groks: false, grokkedAt: null, onset: null });
    const partial = curve({ memorize: 100, hinge: 300, rise: 1000, total: 900 }); // reaches ~0.62
    expect(groundTruth(partial)).toMatchObject({ hopeless: false, grokkedAt: null });
  });

  it('dates a divergence where the loss began its unbroken climb to NaN', () => {
    const climb = curve({ memorize: 1000, hinge: null, total: 60, loss: (s) => (s < 40 ? 1 : s < 50 ? 10 ** (s - 38) : NaN) });
    const t = groundTruth(climb);
    expect(t.divergedAt).toBe(40); // the loss is 1 up to step 39, and climbs from step 40 on
    expect(t.labels.slice(39).every((l) => l === 'DIVERGED')).toBe(true);
    expect(t.labels[38]).not.toBe('DIVERGED');
    expect(t.hopeless).toBe(false);
  });

  it('labels a run without train accuracy by its generalization alone: WARMUP, then DEGRADATION once 0.1 below its best', () => {
    const steps = Array.from({ length: 100 }, (_, i) => exampleStepMetrics({ run_id: 'a', step: i, train_acc: null, test_acc: 0.7 - i * 0.003 }));
    const t = groundTruth(steps);
    expect(t.memorizedAt).toBeNull();
    expect(t.labels[20]).toBe('WARMUP');
    // the smoothed best is 0.697 (a centred median at step 0); 0.1 below it is reached at step 34.3
    expect(t.labels.indexOf('DEGRADATION')).toBe(35);
  });
});
