import { describe, expect, it } from 'vitest';
import { uShapeFit } from './u-shape-fit.ts';
import { collect, gaussian, newScheduler, s } from './testing.ts';

describe('uShapeFit', () => {
  it('is exact on a parabola with uneven steps: r2 = 1, exact vertex; emits once full', () => {
    // value = 0.5·(step − 6)² + 1 = 0.5·step² − 6·step + 19
    const f = (t: number) => 0.5 * (t - 6) ** 2 + 1;
    newScheduler().run(({ cold, expectObservable }) => {
      const v = { a: s(0, f(0)), b: s(2, f(2)), c: s(3, f(3)), d: s(7, f(7)), e: s(12, f(12)) };
      const fit = { a: 0.5, b: -6, c: 19, vertexStep: 6, vertexValue: 1, r2: 1 };
      expectObservable(cold('abcde|', v).pipe(uShapeFit(4))).toBe('---de|', {
        d: { step: 7, ...fit },
        e: { step: 12, ...fit },
      });
    });
  });

  it('finds an inverted-U vertex at large steps', () => {
    const out = collect([0, 1, 2, 3, 4, 5, 6].map((i) => s(1e6 + 100 * i, 0.9 - 1e-5 * (100 * i - 250) ** 2)), uShapeFit(7));
    expect(out).toHaveLength(1);
    expect(out[0]!.vertexStep).toBeCloseTo(1e6 + 250, 6);
    expect(out[0]!.vertexValue).toBeCloseTo(0.9, 9);
    expect(out[0]!.a).toBeCloseTo(-1e-5, 12);
    expect(out[0]!.r2).toBeCloseTo(1, 12);
  });

  it('reports a null vertex on a line (and r2 = 1); r2 = 1 on a constant', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const line = { a: s(1, 3), b: s(2, 5), c: s(4, 9) };
      expectObservable(cold('abc|', line).pipe(uShapeFit(3))).toBe('--c|', {
        c: { step: 4, a: 0, b: 2, c: 1, vertexStep: null, vertexValue: null, r2: 1 },
      });
      const flat = { a: s(1, 7), b: s(2, 7), c: s(3, 7) };
      expectObservable(cold('abc|', flat).pipe(uShapeFit(3))).toBe('--c|', {
        c: { step: 3, a: 0, b: 0, c: 7, vertexStep: null, vertexValue: null, r2: 1 },
      });
    });
  });

  it('hand-computed 4-point fit (r2 < 1), skipping non-finite samples, propagating errors', () => {
    // steps 0..3, values 0, 1, 1, 0.5: normal equations (Σt⁴ = 98, Σt³ = 36, Σt² = 14, Σt²y = 9.5, Σty = 4.5, Σy = 2.5) give a = -0.375, b = 1.275, c = 0.025
    const a = -0.375, b = 1.275, c = 0.025;
    const ys = [0, 1, 1, 0.5];
    const fitted = ys.map((_, t) => a * t * t + b * t + c);
    const mean = 0.625;
    const ssRes = ys.reduce((acc, y, t) => acc + (y - fitted[t]!) ** 2, 0);
    const ssTot = ys.reduce((acc, y) => acc + (y - mean) ** 2, 0);
    newScheduler().run(({ cold, expectObservable }) => {
      const v = { a: s(0, 0), b: s(1, 1), n: s(2, NaN), c: s(2, 1), d: s(3, 0.5) };
      expectObservable(cold('abncd#', v).pipe(uShapeFit(4))).toBe('----d#', {
        d: { step: 3, a, b, c, vertexStep: -b / (2 * a), vertexValue: c - (b * b) / (4 * a), r2: 1 - ssRes / ssTot },
      });
    });
  });

  it('has a low r2 on noise (fixed seed)', () => {
    const z = gaussian(4);
    const out = collect(Array.from({ length: 300 }, (_, i) => s(i, z())), uShapeFit(100));
    expect(out).toHaveLength(201);
    expect(Math.max(...out.map((o) => o.r2))).toBeLessThan(0.2);
  });

  it('validates its options', () => {
    expect(() => uShapeFit(2)).toThrow(/uShapeFit: size must be an integer >= 3/);
    expect(() => uShapeFit(5, { epsilon: -1 })).toThrow(/epsilon must be >= 0/);
  });
});
