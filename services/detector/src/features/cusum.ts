// Tabular CUSUM (Page 1954 / Montgomery): the classic detector of a sustained mean shift of a
// known size away from an in-control level; optimal for shifts of about 2k. O(1) state.
import type { OperatorFunction } from 'rxjs';
import type { Sample } from '../views.ts';
import type { ChangeDirection, ChangePoint } from './change-point.ts';
import { featureOperator, requireFinite, requireInteger, requireNonNegative, requireOneOf, requirePositive } from './internal.ts';

export interface CusumOptions {
  /** The in-control mean. If omitted, the mean of the first `warmup` samples (re-learned after each alarm). */
  target?: number;
  /** Allowance (slack) per sample, value units, >= 0: typically half the shift to detect. */
  k: number;
  /** Decision interval, value units, > 0: alarm when the cumulative sum exceeds it. */
  h: number;
  direction: ChangeDirection;
  /** Samples used to estimate the target when none is given (integer >= 1). Default 10. */
  warmup?: number;
}

/**
 *   increase: C⁺ₜ = max(0, C⁺ₜ₋₁ + xₜ − (μ₀ + k))
 *   decrease: C⁻ₜ = max(0, C⁻ₜ₋₁ + (μ₀ − k) − xₜ)
 * Emits ONLY when C > h, as { step, statistic: C, mean: μ₀ }, then resets C to 0 (and, when μ₀
 * was estimated, re-estimates it from the next `warmup` samples, which are not scored).
 * Non-finite samples are skipped.
 */
export function cusum(options: CusumOptions): OperatorFunction<Sample, ChangePoint> {
  const target = options.target === undefined ? undefined : requireFinite('cusum: target', options.target);
  const k = requireNonNegative('cusum: k', options.k);
  const h = requirePositive('cusum: h', options.h);
  const direction = requireOneOf('cusum: direction', options.direction, ['increase', 'decrease']);
  const warmup = requireInteger('cusum: warmup', options.warmup ?? 10, 1);
  const up = direction === 'increase';
  return featureOperator(() => {
    let seen = 0;
    let estimate = 0;
    let c = 0;
    return ({ step, value }) => {
      if (target === undefined && seen < warmup) {
        seen++;
        estimate += (value - estimate) / seen;
        return undefined;
      }
      const mu = target ?? estimate;
      c = Math.max(0, c + (up ? value - mu - k : mu - k - value));
      if (!(c > h)) return undefined;
      const change = { step, statistic: c, mean: mu };
      c = 0;
      seen = 0;
      estimate = 0;
      return change;
    };
  });
}
