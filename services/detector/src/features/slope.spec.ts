import { describe, expect, it } from 'vitest';
import { slope } from './slope.ts';
import type { Sample } from '../views.ts';
import { collect, newScheduler, s } from './testing.ts';

/** Independent reference: textbook slope = (nΣxy − ΣxΣy) / (nΣx² − (Σx)²). */
function refSlope(points: Array<[number, number]>): number {
  const n = points.length;
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const [x, y] of points) {
    sx += x; sy += y; sxx += x * x; sxy += x * y;
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

describe('slope', () => {
  it('emits from the 2nd sample; exact on a line with uneven steps', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      // value = 3 - 0.5 * step on steps 2, 3, 7, 20
      const src = cold('a-b-c-d|', { a: s(2, 2), b: s(3, 1.5), c: s(7, -0.5), d: s(20, -7) });
      expectObservable(src.pipe(slope(3))).toBe('--b-c-d|', { b: s(3, -0.5), c: s(7, -0.5), d: s(20, -0.5) });
    });
  });

  it('matches an independent reference on noisy uneven data, over the last `size` samples', () => {
    const pts: Array<[number, number]> = [[1, 0.3], [2, 0.9], [4, 0.2], [5, 1.7], [9, 1.1]];
    newScheduler().run(({ cold, expectObservable }) => {
      const [a, b, c, d, e] = pts.map(([t, y]) => s(t, y)) as [Sample, Sample, Sample, Sample, Sample];
      const src = cold('abcde|', { a, b, c, d, e });
      expectObservable(src.pipe(slope(3))).toBe('-bcde|', {
        b: s(2, refSlope(pts.slice(0, 2))),
        c: s(4, refSlope(pts.slice(0, 3))),
        d: s(5, refSlope(pts.slice(1, 4))),
        e: s(9, refSlope(pts.slice(2, 5))),
      });
    });
  });

  it('is stable at large steps (centered)', () => {
    const out = collect([s(1e9, 5), s(1e9 + 1, 5.001), s(1e9 + 2, 5.002)], slope(3));
    expect(out.at(-1)!.value).toBeCloseTo(0.001, 9);
  });

  it('skips non-finite samples and equal-step windows; propagates errors', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const v = { a: s(1, 1), n: s(2, Infinity), b: s(3, 5), d: s(3, 7) };
      expectObservable(cold('anb#', v).pipe(slope(2))).toBe('--b#', { b: s(3, 2) });
      // two samples at the same step: no slope to report yet
      expectObservable(cold('bd|', v).pipe(slope(2))).toBe('--|');
    });
  });

  it('rejects size < 2', () => {
    expect(() => slope(1)).toThrow(/slope: size must be an integer >= 2/);
  });
});
