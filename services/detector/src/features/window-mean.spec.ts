import { describe, expect, it } from 'vitest';
import { windowMean } from './window-mean.ts';
import { exactScheduler, newScheduler, s } from './testing.ts';

describe('windowMean', () => {
  it('averages what is available, then the last `size` samples', () => {
    exactScheduler().run(({ cold, expectObservable }) => {
      const src = cold('a-b-c-d-e|', { a: s(1, 2), b: s(2, 4), c: s(3, 6), d: s(4, 10), e: s(7, -2) });
      expectObservable(src.pipe(windowMean(3))).toBe('a-b-c-d-e|', {
        a: s(1, 2),
        b: s(2, 3),
        c: s(3, 4),
        d: s(4, 20 / 3),
        e: s(7, 14 / 3),
      });
    });
  });

  it('size 1 is the identity; skips non-finite samples; propagates errors', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const v = { a: s(1, 0.1), b: s(2, 0.2), n: s(3, NaN), c: s(4, 0.7) };
      expectObservable(cold('ab|', v).pipe(windowMean(1))).toBe('ab|', { a: s(1, 0.1), b: s(2, 0.2) });
      expectObservable(cold('abnc#', v).pipe(windowMean(2))).toBe('ab-c#', { a: s(1, 0.1), b: s(2, 0.15), c: s(4, 0.45) });
    });
  });

  it('does not drift: huge values leaving the window do not corrupt later means', () => {
    exactScheduler().run(({ cold, expectObservable }) => {
      const src = cold('abcd|', { a: s(0, 1e17), b: s(1, 3), c: s(2, 1), d: s(3, 1) });
      // a running sum would give (1e17 + 3 + 1 - 1e17 - 3 ...) rounding garbage; recomputing gives 1
      expectObservable(src.pipe(windowMean(2))).toBe('abcd|', { a: s(0, 1e17), b: s(1, 5e16), c: s(2, 2), d: s(3, 1) });
    });
  });

  it('rejects a non-integer or < 1 size', () => {
    expect(() => windowMean(0)).toThrow(/windowMean: size must be an integer >= 1/);
    expect(() => windowMean(2.5)).toThrow(/size/);
  });
});
