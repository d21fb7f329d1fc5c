import { describe, expect, it } from 'vitest';
import { trend, trendStepper } from './trend.ts';
import { collect, gaussian, newScheduler, s } from './testing.ts';
import type { Sample } from '../views.ts';

/** Textbook simple regression: slope, its standard error and σ̂, computed independently. */
function reference(points: Array<[number, number]>) {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  const b = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
  const sse = points.reduce((a, [x, y]) => a + (y - my - b * (x - mx)) ** 2, 0);
  return { slope: b, stderr: Math.sqrt(sse / (n - 2) / sxx), residualStd: Math.sqrt(sse / (n - 2)), meanStep: mx, meanValue: my };
}

describe('trend', () => {
  it('emits from the 3rd sample; matches the textbook slope, standard error and σ̂ over the last `size` samples', () => {
    const pts: Array<[number, number]> = [[1, 0.3], [2, 0.9], [4, 0.2], [5, 1.7], [9, 1.1]];
    newScheduler().run(({ cold, expectObservable }) => {
      const [a, b, c, d, e] = pts.map(([t, y]) => s(t, y)) as [Sample, Sample, Sample, Sample, Sample];
      const out = (k: number, from: number) => ({ step: pts[k]![0], samples: k + 1 - from, ...reference(pts.slice(from, k + 1)) });
      expectObservable(cold('abcde|', { a, b, c, d, e }).pipe(trend(4))).toBe('--cde|', { c: out(2, 0), d: out(3, 0), e: out(4, 1) });
    });
  });

  it('has zero error on an exact line, and a t statistic that tells a slow rise from noise', () => {
    const line = collect(Array.from({ length: 10 }, (_, i) => s(100 + 3 * i, 0.5 + 0.01 * i)), trend(10)).at(-1)!;
    expect(line.slope).toBeCloseTo(0.01 / 3, 12);
    expect(line.stderr).toBeLessThan(1e-12);
    const noise = gaussian(7);
    // 0.01 → 0.30 over 700 steps (a slow grokking climb), noise σ 0.01: clearly rising over 100 steps.
    const climb = collect(Array.from({ length: 100 }, (_, i) => s(i, 0.01 + (0.29 * i) / 700 + 0.01 * noise())), trend(100)).at(-1)!;
    expect(climb.slope / climb.stderr).toBeGreaterThan(5);
    expect(climb.residualStd).toBeGreaterThan(0.005);
    expect(climb.residualStd).toBeLessThan(0.02);
    const flat = collect(Array.from({ length: 100 }, (_, i) => s(i, 0.05 + 0.01 * noise())), trend(100)).at(-1)!;
    expect(Math.abs(flat.slope / flat.stderr)).toBeLessThan(3);
  });

  it('skips non-finite samples and equal-step windows; propagates errors', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const v = { a: s(1, 1), n: s(2, NaN), b: s(3, 5), c: s(4, 6), d: s(4, 9) };
      const fit = { step: 4, samples: 3, ...reference([[1, 1], [3, 5], [4, 6]]) };
      expectObservable(cold('anbc#', v).pipe(trend(3))).toBe('---c#', { c: fit });
      expectObservable(cold('dd|', v).pipe(trend(3))).toBe('--|');
    });
  });

  it('steps the same state machine the operator runs', () => {
    const samples = Array.from({ length: 30 }, (_, i) => s(i * 2, Math.sin(i)));
    const step = trendStepper(8);
    const direct = samples.map((x) => step(x)).filter((x) => x !== undefined);
    expect(direct).toEqual(collect(samples, trend(8)));
  });

  it('rejects size < 3', () => {
    expect(() => trend(2)).toThrow(/trend: size must be an integer >= 3/);
  });
});
