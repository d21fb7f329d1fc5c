import { describe, expect, it } from 'vitest';
import { learningRate, type ScheduleOptions } from './schedule.ts';

const base: ScheduleOptions = { lr: 1, warmupSteps: 0, decay: 'none', totalSteps: 100, minLr: 0, stepSize: 10, gamma: 0.5 };

describe('learningRate', () => {
  it('warms up linearly to lr over warmup_steps', () => {
    const o = { ...base, warmupSteps: 4 };
    expect([1, 2, 3, 4, 5].map((s) => learningRate(o, s))).toEqual([0.25, 0.5, 0.75, 1, 1]);
  });

  it('decays by cosine from lr to min_lr over the remaining steps', () => {
    const o = { ...base, decay: 'cosine' as const, minLr: 0.1, warmupSteps: 10 };
    expect(learningRate(o, 11)).toBeCloseTo(1);
    expect(learningRate(o, 56)).toBeCloseTo(0.55); // halfway: (1 + 0.1) / 2
    expect(learningRate(o, 100)).toBeGreaterThan(0.1);
    expect(learningRate(o, 101)).toBeCloseTo(0.1);
  });

  it('decays linearly and in steps', () => {
    expect(learningRate({ ...base, decay: 'linear' }, 51)).toBeCloseTo(0.5);
    const st = { ...base, decay: 'step' as const, minLr: 0.2 };
    expect([1, 10, 11, 21, 31].map((s) => learningRate(st, s))).toEqual([1, 1, 0.5, 0.25, 0.2]);
  });
});
