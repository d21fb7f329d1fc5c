// Page–Hinkley test: cheap (O(1)) detection of a sustained shift in a metric's mean, e.g. the
// sudden rise of test accuracy when a run groks, or a loss that starts climbing.
import type { OperatorFunction } from 'rxjs';
import type { Sample } from '../views.ts';
import type { ChangeDirection, ChangePoint } from './change-point.ts';
import { featureOperator, requireNonNegative, requireOneOf, requirePositive } from './internal.ts';

export interface PageHinkleyOptions {
  /** Magnitude of change tolerated per sample (value units, >= 0): drift below it is ignored. */
  delta: number;
  /** Alarm when the statistic exceeds this (value units, > 0). Larger: fewer false alarms, more delay. */
  threshold: number;
  /** Which shift to detect. */
  direction: ChangeDirection;
  /** Forgetting factor for the cumulative sum, in (0, 1]. Default 1 (classic test, no forgetting). */
  alpha?: number;
}

/**
 * With x̄ₜ the running mean (including xₜ):
 *   increase: mₜ = α·mₜ₋₁ + (xₜ − x̄ₜ − δ), statistic = mₜ − min_{i≤t} mᵢ
 *   decrease: mₜ = α·mₜ₋₁ + (xₜ − x̄ₜ + δ), statistic = max_{i≤t} mᵢ − mₜ
 * Emits ONLY when statistic > threshold, as { step, statistic, mean: x̄ₜ }, then resets all state
 * (the next sample starts a fresh test). Non-finite samples are skipped.
 */
export function pageHinkley(options: PageHinkleyOptions): OperatorFunction<Sample, ChangePoint> {
  const delta = requireNonNegative('pageHinkley: delta', options.delta);
  const threshold = requirePositive('pageHinkley: threshold', options.threshold);
  const direction = requireOneOf('pageHinkley: direction', options.direction, ['increase', 'decrease']);
  const alpha = options.alpha ?? 1;
  if (!(alpha > 0 && alpha <= 1)) throw new Error(`pageHinkley: alpha must be in (0, 1], got ${String(alpha)}`);
  const up = direction === 'increase';
  return featureOperator(() => {
    let n = 0;
    let mean = 0;
    let sum = 0;
    let extreme = 0;
    return ({ step, value }) => {
      n++;
      mean += (value - mean) / n;
      sum = alpha * sum + (value - mean + (up ? -delta : delta));
      extreme = n === 1 ? sum : up ? Math.min(extreme, sum) : Math.max(extreme, sum);
      const statistic = up ? sum - extreme : extreme - sum;
      if (!(statistic > threshold)) return undefined;
      const change = { step, statistic, mean };
      n = 0;
      mean = 0;
      sum = 0;
      extreme = 0;
      return change;
    };
  });
}
