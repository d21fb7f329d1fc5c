import { describe, expect, it } from 'vitest';
import { fitHinge } from './least-squares.ts';
import { gaussian } from './testing.ts';

describe('fitHinge (flat, then a straight rise)', () => {
  it('finds the hinge of exact data at once, on uneven steps', () => {
    const steps = [0, 3, 5, 10, 12, 20, 21, 30, 33, 40];
    const pts = steps.map((t) => [t, 0.2 + 0.05 * Math.max(0, t - 12)] as const);
    expect(fitHinge(pts)).toEqual({ step: 12, index: 4 });
  });

  it('lands within a few steps of the hinge under noise, and at the start for a rise from the first point', () => {
    const noise = gaussian(3);
    const pts = Array.from({ length: 200 }, (_, t) => [t, 0.05 + 0.004 * Math.max(0, t - 120) + 0.01 * noise()] as const);
    expect(Math.abs(fitHinge(pts)!.step - 120)).toBeLessThanOrEqual(6);
    expect(fitHinge(Array.from({ length: 20 }, (_, t) => [t, t] as const))!.step).toBe(0);
  });

  it('is null for a fall or too few points', () => {
    expect(fitHinge(Array.from({ length: 20 }, (_, t) => [t, -t] as const))).toBeNull();
    expect(fitHinge([[0, 1], [1, 2]])).toBeNull();
  });
});
