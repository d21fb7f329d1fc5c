import { describe, expect, it } from 'vitest';
import { curvature } from './curvature.ts';
import { collect, newScheduler, s } from './testing.ts';

describe('curvature', () => {
  it('emits 2a from the 3rd sample; exact on a parabola with uneven steps', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const f = (t: number) => 0.25 * t * t - 3 * t + 1; // 2a = 0.5
      const src = cold('abcd|', { a: s(0, f(0)), b: s(1, f(1)), c: s(4, f(4)), d: s(10, f(10)) });
      expectObservable(src.pipe(curvature(3))).toBe('--cd|', { c: s(4, 0.5), d: s(10, 0.5) });
    });
  });

  it('is 0 on a line and matches a hand-computed fit on 4 points', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const line = { a: s(1, 1), b: s(2, 3), c: s(3, 5) };
      expectObservable(cold('abc|', line).pipe(curvature(3))).toBe('--c|', { c: s(3, 0) });
      // steps -1, 0, 1, 2 with values 1, 0, 0, 1: symmetric in u = t - 0.5; the quadratic
      // least-squares fit is v = 0.5 u² + c (residuals 0), so 2a = 1... check: (-1.5)²·0.5 = 1.125,
      // (-0.5)²·0.5 = 0.125: c = -0.125 gives 1, 0, 0, 1 exactly.
      const sym = { a: s(-1, 1), b: s(0, 0), c: s(1, 0), d: s(2, 1) };
      expectObservable(cold('abcd|', sym).pipe(curvature(4))).toBe('--cd|', { c: s(1, 1), d: s(2, 1) });
    });
  });

  it('is stable at large steps and small curvature', () => {
    const out = collect([0, 1, 2, 3, 4].map((i) => s(1e7 + i * 10, 1e-6 * (i * 10) ** 2)), curvature(5));
    expect(out.at(-1)!.value).toBeCloseTo(2e-6, 12);
  });

  it('skips non-finite samples and windows with < 3 distinct steps; propagates errors', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const v = { a: s(0, 0), b: s(1, 1), n: s(2, NaN), c: s(2, 4), d: s(2, 5) };
      expectObservable(cold('abnc#', v).pipe(curvature(3))).toBe('---c#', { c: s(2, 2) });
      expectObservable(cold('acd|', v).pipe(curvature(3))).toBe('---|');
    });
  });

  it('rejects size < 3', () => {
    expect(() => curvature(2)).toThrow(/curvature: size must be an integer >= 3/);
  });
});
