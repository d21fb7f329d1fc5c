import { describe, expect, it } from 'vitest';
import { ema } from './ema.ts';
import { exactScheduler, newScheduler, s } from './testing.ts';

describe('ema', () => {
  it('starts at the first value and smooths recursively', () => {
    exactScheduler().run(({ cold, expectObservable }) => {
      const src = cold('a-b-c-d|', { a: s(1, 4), b: s(2, 8), c: s(3, 0), d: s(5, 2) });
      // alpha 0.5: 4, 6, 3, 2.5 (all exact in binary)
      expectObservable(src.pipe(ema(0.5))).toBe('a-b-c-d|', { a: s(1, 4), b: s(2, 6), c: s(3, 3), d: s(5, 2.5) });
    });
  });

  it('alpha = 1 is the identity; non-exact alphas to 1e-9', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const values = { a: s(0, 1), b: s(10, 2), c: s(20, 3) };
      expectObservable(cold('abc|', values).pipe(ema(1))).toBe('abc|', values);
      // alpha 0.1: 1, 0.1*2 + 0.9*1 = 1.1, 0.1*3 + 0.9*1.1 = 1.29
      expectObservable(cold('abc|', values).pipe(ema(0.1))).toBe('abc|', { a: s(0, 1), b: s(10, 1.1), c: s(20, 1.29) });
    });
  });

  it('skips non-finite samples: no output, state untouched', () => {
    exactScheduler().run(({ cold, expectObservable }) => {
      const src = cold('a-n-i-b|', { a: s(1, 4), n: s(2, NaN), i: s(3, -Infinity), b: s(4, 8) });
      expectObservable(src.pipe(ema(0.5))).toBe('a-----b|', { a: s(1, 4), b: s(4, 6) });
      const badStep = cold('a-n-b|', { a: s(1, 4), n: s(NaN, 1), b: s(4, 8) });
      expectObservable(badStep.pipe(ema(0.5))).toBe('a---b|', { a: s(1, 4), b: s(4, 6) });
    });
  });

  it('propagates errors and keeps state per subscription', () => {
    exactScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const src = cold('a-b-#', { a: s(1, 4), b: s(2, 8) }, new Error('boom'));
      const op = ema(0.5);
      expectObservable(src.pipe(op)).toBe('a-b-#', { a: s(1, 4), b: s(2, 6) }, new Error('boom'));
      expectObservable(src.pipe(op)).toBe('a-b-#', { a: s(1, 4), b: s(2, 6) }, new Error('boom'));
      expectSubscriptions(src.subscriptions).toBe(['^---!', '^---!']);
    });
  });

  it('rejects alpha outside (0, 1] with a clear error', () => {
    for (const bad of [0, -0.1, 1.5, NaN, Infinity]) {
      expect(() => ema(bad)).toThrow(/ema: alpha must be in \(0, 1\]/);
    }
  });
});
