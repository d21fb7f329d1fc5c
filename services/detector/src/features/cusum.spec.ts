import { describe, expect, it } from 'vitest';
import { cusum } from './cusum.ts';
import { collect, exactScheduler, gaussian, s } from './testing.ts';

const series = (n: number, level: (i: number) => number, sd: number, seed: number) => {
  const z = gaussian(seed);
  return Array.from({ length: n }, (_, i) => s(i, level(i) + sd * z()));
};

describe('cusum', () => {
  it('with a target: emits only when C+ > h (hand-computed), then resets C', () => {
    exactScheduler().run(({ cold, expectObservable }) => {
      const v = { a: s(1, 0), b: s(2, 1), c: s(3, 2), d: s(4, 2), e: s(5, 3), f: s(6, 0) };
      // k .5: C = 0, .5, 2 (not > 2), 3.5 -> alarm, reset; 2.5 -> alarm; 0
      expectObservable(cold('abcdef|', v).pipe(cusum({ target: 0, k: 0.5, h: 2, direction: 'increase' }))).toBe('---de-|', {
        d: { step: 4, statistic: 3.5, mean: 0 },
        e: { step: 5, statistic: 2.5, mean: 0 },
      });
    });
  });

  it('without a target: learns it from `warmup` samples, re-learns after an alarm', () => {
    exactScheduler().run(({ cold, expectObservable }) => {
      const v = { a: s(1, 2), b: s(2, 4), c: s(3, 2), d: s(4, 1.5), w: s(5, 0), x: s(6, 1), y: s(7, -1) };
      // mean 3: C- = 1, 1 + 1.5 = 2.5 > 1 -> alarm at 4; re-learn mean .5 from w, x; y: C- = 1.5 > 1
      expectObservable(cold('abcdwxy|', v).pipe(cusum({ k: 0, h: 1, direction: 'decrease', warmup: 2 }))).toBe('---d--y|', {
        d: { step: 4, statistic: 2.5, mean: 3 },
        y: { step: 7, statistic: 1.5, mean: 0.5 },
      });
    });
  });

  it('skips non-finite samples and propagates errors', () => {
    exactScheduler().run(({ cold, expectObservable }) => {
      const v = { n: s(1, NaN), i: s(2, Infinity), a: s(3, 5) };
      expectObservable(cold('nia#', v).pipe(cusum({ target: 0, k: 1, h: 2, direction: 'increase' }))).toBe('--a#', {
        a: { step: 3, statistic: 4, mean: 0 },
      });
    });
  });

  it('detects a synthetic step change within a few steps (target given or learned)', () => {
    const up = series(400, (i) => (i < 200 ? 0 : 1), 0.1, 11);
    const given = collect(up, cusum({ target: 0, k: 0.2, h: 1, direction: 'increase' }));
    expect(given[0]!.step).toBeGreaterThanOrEqual(200);
    expect(given[0]!.step).toBeLessThanOrEqual(203);
    const learned = collect(up, cusum({ k: 0.2, h: 1, direction: 'increase', warmup: 50 }));
    expect(learned[0]!.step).toBeGreaterThanOrEqual(200);
    expect(learned[0]!.step).toBeLessThanOrEqual(203);
    // after the alarm it re-learns the new level and stays quiet
    expect(learned).toHaveLength(1);
    const down = collect(series(400, (i) => (i < 200 ? 1 : 0), 0.1, 12), cusum({ k: 0.2, h: 1, direction: 'decrease', warmup: 50 }));
    expect(down.map((c) => c.step)).toHaveLength(1);
    expect(down[0]!.step).toBeGreaterThanOrEqual(200);
    expect(down[0]!.step).toBeLessThanOrEqual(203);
  });

  it('raises no false alarm on a flat noisy series (fixed seed)', () => {
    for (const seed of [1, 2, 3]) {
      const flat = series(3000, () => 0.5, 0.1, seed);
      expect(collect(flat, cusum({ k: 0.2, h: 1, direction: 'increase', warmup: 50 }))).toEqual([]);
      expect(collect(flat, cusum({ target: 0.5, k: 0.2, h: 1, direction: 'decrease' }))).toEqual([]);
    }
  });

  it('validates its options', () => {
    expect(() => cusum({ k: -1, h: 1, direction: 'increase' })).toThrow(/cusum: k must be >= 0/);
    expect(() => cusum({ k: 0, h: 0, direction: 'increase' })).toThrow(/cusum: h must be > 0/);
    expect(() => cusum({ k: 0, h: 1, direction: 'increase', warmup: 0 })).toThrow(/cusum: warmup must be an integer >= 1/);
    expect(() => cusum({ target: NaN, k: 0, h: 1, direction: 'increase' })).toThrow(/cusum: target must be a finite number/);
  });
});
