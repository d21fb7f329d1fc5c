// Exponential moving average: the cheapest smoother (O(1) state), for noisy per-step metrics.
import type { OperatorFunction } from 'rxjs';
import type { Sample } from '../views.ts';
import { featureOperator, type Stepper } from './internal.ts';

/**
 * s₁ = x₁, sₜ = α·xₜ + (1 − α)·sₜ₋₁, emitted at every (finite) sample's step.
 * α ∈ (0, 1]: 1 is no smoothing; small α smooths more (≈ a window of 2/α − 1 samples).
 * Non-finite samples are skipped (no output, state untouched).
 */
export function ema(alpha: number): OperatorFunction<Sample, Sample> {
  emaStepper(alpha); // validates alpha when the operator is created
  return featureOperator(() => emaStepper(alpha));
}

/** The state machine behind `ema`, for the phase machine and policies. */
export function emaStepper(alpha: number): Stepper<Sample> {
  if (typeof alpha !== 'number' || !(alpha > 0 && alpha <= 1)) {
    throw new Error(`ema: alpha must be in (0, 1], got ${String(alpha)}`);
  }
  let smoothed: number | undefined;
  return ({ step, value }) => {
    smoothed = smoothed === undefined ? value : alpha * value + (1 - alpha) * smoothed;
    return { step, value: smoothed };
  };
}
