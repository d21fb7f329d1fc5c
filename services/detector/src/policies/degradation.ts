// Anti-grokking: generalization peaked early and has been decaying since.
import type { OperatorFunction } from 'rxjs';
import type { RunView, StopDecision } from '../views.ts';
import { finiteOrNull, requireNonNegative, requirePositive } from './policy-options.ts';
import { statefulPolicy } from './stateful-policy.ts';

export interface DegradationOptions {
  /** Steps (of the step field) without a new best generalization; > 0. */
  steps: number;
  /** The current value must be below best - minDelta; >= 0. Default 0. */
  minDelta?: number;
}

const POLICY = 'degradation';

/**
 * Tracks the best RunView.generalization (a new best is strictly greater) and its step. Only
 * views with a finite generalization count: null (not measured) and NaN/±Inf are skipped.
 * Stops on the first counted view with (step - bestStep) >= steps AND current < best - minDelta.
 * A run that plateaus at its best (current == best) is not stopped by this policy.
 * Emits one decision and completes.
 */
export function degradation(options: DegradationOptions): OperatorFunction<RunView, StopDecision> {
  const steps = requirePositive(POLICY, 'steps', options.steps);
  const minDelta = requireNonNegative(POLICY, 'minDelta', options.minDelta ?? 0);
  return statefulPolicy(() => {
    let best: number | null = null;
    let bestStep = 0;
    return (view): StopDecision | null => {
      const current = finiteOrNull(view.generalization);
      if (current === null) return null;
      if (best === null || current > best) {
        best = current;
        bestStep = view.step;
        return null;
      }
      const since = view.step - bestStep;
      if (since < steps || !(current < best - minDelta)) return null;
      return {
        runId: view.runId,
        policy: POLICY,
        reason:
          `generalization peaked at ${best} at step ${bestStep} and is now ${current} ` +
          `(below best - ${minDelta}) after ${since} steps without a new best (threshold ${steps})`,
        step: view.step,
        evidence: {
          window_start: bestStep,
          window_end: view.step,
          values: { best, bestStep, current, drop: best - current, stepsSinceBest: since },
          thresholds: { steps, minDelta },
        },
      };
    };
  });
}
