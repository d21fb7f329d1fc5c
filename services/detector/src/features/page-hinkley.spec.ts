import { describe, expect, it } from 'vitest';
import { pageHinkley } from './page-hinkley.ts';
import { collect, gaussian, newScheduler, s } from './testing.ts';

const series = (n: number, level: (i: number) => number, sd: number, seed: number) => {
  const z = gaussian(seed);
  return Array.from({ length: n }, (_, i) => s(i, level(i) + sd * z()));
};

describe('pageHinkley', () => {
  it('emits only at the change (hand-computed), then restarts from scratch', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const v = { z: s(1, 0), y: s(2, 0), x: s(3, 0), a: s(4, 2), b: s(5, 2), c: s(6, 2), d: s(7, 5), e: s(8, 5) };
      // running means 0,0,0,.5,.8 -> m = 0,0,0,1.5,2.7: 1.5 is not > 1.5, 2.7 is.
      // after the reset: means 2, 3.5, 4 -> m = 0, 1.5, 2.5
      expectObservable(cold('zyxabcde|', v).pipe(pageHinkley({ delta: 0, threshold: 1.5, direction: 'increase' }))).toBe(
        '----b--e|',
        { b: { step: 5, statistic: 2.7, mean: 0.8 }, e: { step: 8, statistic: 2.5, mean: 4 } },
      );
    });
  });

  it("'decrease' and forgetting alpha (hand-computed); non-finite skipped; errors propagate", () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const v = { a: s(1, 1), b: s(2, 1), n: s(3, NaN), c: s(4, -1) };
      // mean 1/3 at c: m = 0, 0, -4/3 ; max 0 -> 4/3 > 1
      expectObservable(cold('abnc#', v).pipe(pageHinkley({ delta: 0, threshold: 1, direction: 'decrease' }))).toBe(
        '---c#',
        { c: { step: 4, statistic: 4 / 3, mean: 1 / 3 } },
      );
      // alpha 0.5 with delta 0.1, increase: values 0, 1, 1
      // means 0, .5, 2/3; m1 = -.1; m2 = -.05 + .4 = .35; m3 = .175 + 1/3 - .1 = .408333..; min -.1
      // statistic .508333.. > .5 at step 3
      const w = { a: s(1, 0), b: s(2, 1), c: s(3, 1) };
      expectObservable(cold('abc|', w).pipe(pageHinkley({ delta: 0.1, threshold: 0.5, direction: 'increase', alpha: 0.5 }))).toBe(
        '--c|',
        { c: { step: 3, statistic: 0.175 + 1 / 3 - 0.1 + 0.1, mean: 2 / 3 } },
      );
    });
  });

  it('detects a synthetic step change within a few steps, in either direction', () => {
    const up = collect(series(400, (i) => (i < 200 ? 0 : 1), 0.1, 7), pageHinkley({ delta: 0.05, threshold: 3, direction: 'increase' }));
    expect(up).toHaveLength(1);
    expect(up[0]!.step).toBeGreaterThanOrEqual(200);
    expect(up[0]!.step).toBeLessThanOrEqual(206);
    const down = collect(series(400, (i) => (i < 200 ? 1 : 0), 0.1, 8), pageHinkley({ delta: 0.05, threshold: 3, direction: 'decrease' }));
    expect(down.map((c) => c.step).every((t) => t >= 200 && t <= 206)).toBe(true);
    expect(down).toHaveLength(1);
    // the wrong direction sees nothing
    expect(collect(series(400, (i) => (i < 200 ? 0 : 1), 0.1, 7), pageHinkley({ delta: 0.05, threshold: 3, direction: 'decrease' }))).toEqual([]);
  });

  it('raises no false alarm on a flat noisy series (fixed seed)', () => {
    for (const seed of [1, 2, 3]) {
      const flat = series(3000, () => 0.5, 0.1, seed);
      expect(collect(flat, pageHinkley({ delta: 0.05, threshold: 3, direction: 'increase' }))).toEqual([]);
      expect(collect(flat, pageHinkley({ delta: 0.05, threshold: 3, direction: 'decrease' }))).toEqual([]);
    }
  });

  it('validates its options', () => {
    expect(() => pageHinkley({ delta: -1, threshold: 1, direction: 'increase' })).toThrow(/pageHinkley: delta must be >= 0/);
    expect(() => pageHinkley({ delta: 0, threshold: 0, direction: 'increase' })).toThrow(/threshold must be > 0/);
    expect(() => pageHinkley({ delta: 0, threshold: 1, direction: 'up' as 'increase' })).toThrow(/direction/);
    expect(() => pageHinkley({ delta: 0, threshold: 1, direction: 'increase', alpha: 0 })).toThrow(/alpha must be in \(0, 1\]/);
  });
});
