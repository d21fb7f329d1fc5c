import { describe, expect, it } from 'vitest';
import { bestSoFar, type BestSoFar } from './best-so-far.ts';
import { exactScheduler, s } from './testing.ts';

const b = (step: number, value: number, best: number, bestStep: number): BestSoFar => ({
  step,
  value,
  best,
  bestStep,
  stepsSinceBest: step - bestStep,
});

describe('bestSoFar', () => {
  it("'max' with minDelta: only gains of MORE than minDelta count (Keras)", () => {
    exactScheduler().run(({ cold, expectObservable }) => {
      const src = cold('a-b-c-d-e|', { a: s(0, 0.5), b: s(10, 0.75), c: s(20, 1), d: s(30, 1.5), e: s(45, 1.25) });
      // minDelta 0.25: 0.75 is +0.25 (not more) -> no; 1 is +0.5 -> yes; 1.5 -> yes; 1.25 -> no
      expectObservable(src.pipe(bestSoFar({ mode: 'max', minDelta: 0.25 }))).toBe('a-b-c-d-e|', {
        a: b(0, 0.5, 0.5, 0),
        b: b(10, 0.75, 0.5, 0),
        c: b(20, 1, 1, 20),
        d: b(30, 1.5, 1.5, 30),
        e: b(45, 1.25, 1.5, 30),
      });
    });
  });

  it("'min' without minDelta: ties are not improvements; steps since best in step units", () => {
    exactScheduler().run(({ cold, expectObservable }) => {
      const src = cold('abcd|', { a: s(1, 3), b: s(2, 2), c: s(5, 2), d: s(9, 1) });
      expectObservable(src.pipe(bestSoFar({ mode: 'min' }))).toBe('abcd|', {
        a: b(1, 3, 3, 1),
        b: b(2, 2, 2, 2),
        c: b(5, 2, 2, 2),
        d: b(9, 1, 1, 9),
      });
    });
  });

  it('skips non-finite samples (a NaN is never a best); propagates errors', () => {
    exactScheduler().run(({ cold, expectObservable }) => {
      const src = cold('ninb#', { n: s(1, NaN), i: s(2, Infinity), b: s(3, 0.5) }, new Error('x'));
      expectObservable(src.pipe(bestSoFar({ mode: 'max' }))).toBe('---b#', { b: b(3, 0.5, 0.5, 3) }, new Error('x'));
    });
  });

  it('validates its options', () => {
    expect(() => bestSoFar({ mode: 'up' as 'max' })).toThrow(/bestSoFar: mode must be one of 'max', 'min'/);
    expect(() => bestSoFar({ mode: 'max', minDelta: -1 })).toThrow(/minDelta must be >= 0/);
  });
});
