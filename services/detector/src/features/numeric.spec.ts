import { describe, expect, it } from 'vitest';
import { logGamma, logStudentT, logSumExp } from './numeric.ts';

describe('numeric helpers', () => {
  it('logGamma matches factorials and half-integers', () => {
    expect(logGamma(1)).toBeCloseTo(0, 13);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(logGamma(3.5)).toBeCloseTo(Math.log((15 / 8) * Math.sqrt(Math.PI)), 12);
    expect(logGamma(0.1)).toBeCloseTo(Math.log(9.513507698668732), 11);
  });

  it('logSumExp is stable', () => {
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.log(2), 12);
    expect(logSumExp([-Infinity, -Infinity])).toBe(-Infinity);
    expect(logSumExp([0, Math.log(3)], 1)).toBe(0);
  });

  it('logStudentT: Cauchy at nu = 1', () => {
    expect(logStudentT(1, 1, 0, 1)).toBeCloseTo(-Math.log(2 * Math.PI), 12);
    expect(logStudentT(3, 1, 1, 4)).toBeCloseTo(Math.log(1 / (Math.PI * 2 * 2)), 12);
  });
});
