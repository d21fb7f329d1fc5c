// Anti-grokking: generalization peaked early and has been decaying since.
import type { OperatorFunction } from 'rxjs';
import type { RunView, StopDecision } from '../views.ts';
import { finiteOrNull, requireNonNegative, requirePositive } from './policy-options.ts';
import { statefulPolicy } from './stateful-policy.ts';
import { bestSoFarStepper } from '../features/best-so-far.ts';
import { DEFAULT_PHASE_OPTIONS } from '../phase-machine.ts';

export interface DegradationOptions {
  /** Steps (of the step field) without a new best generalization, at least; > 0. Default 50. */
  steps?: number;
  /** ...and at least this share of the best's own step: a best reached late in a long run must
   *  hold longer before its loss counts (scale-aware); ≥ 0. Default 0.5. */
  share?: number;
  /** The current value must be below best - minDelta; >= 0. Default 0.1 (the phase machine's
   *  degradation_drop: a plateau wandering under its best is not degradation). */
  minDelta?: number;
}

/** The defaults of the degradation policy (the detector config's too). S1's own rule stopped 50
 *  epochs past the best. */
export const DEGRADATION_DEFAULTS = { steps: 50, share: 0.5, minDelta: DEFAULT_PHASE_OPTIONS.degradationDrop } as const;

const POLICY = 'degradation';

/**
 * Tracks the best RunView.generalization with `bestSoFar` (a new best is strictly greater) and
 * its step. Only views with a finite generalization count: null (not measured) and NaN/±Inf are
 * skipped. Stops on the first counted view with (step - bestStep) >= max(steps, share × bestStep)
 * AND current < best - minDelta. A run that plateaus at its best is not stopped by this policy.
 * Emits one decision and completes.
 */
export function degradation(options: DegradationOptions = {}): OperatorFunction<RunView, StopDecision> {
  const steps = requirePositive(POLICY, 'steps', options.steps ?? DEGRADATION_DEFAULTS.steps);
  const share = requireNonNegative(POLICY, 'share', options.share ?? DEGRADATION_DEFAULTS.share);
  const minDelta = requireNonNegative(POLICY, 'minDelta', options.minDelta ?? DEGRADATION_DEFAULTS.minDelta);
  return statefulPolicy(() => {
    const bestOf = bestSoFarStepper({ mode: 'max' });
    return (view): StopDecision | null => {
      const current = finiteOrNull(view.generalization);
      if (current === null) return null;
      const { best, bestStep, stepsSinceBest: since } = bestOf({ step: view.step, value: current })!;
      const wait = Math.max(steps, share * bestStep);
      if (since === 0 || since < wait || !(current < best - minDelta)) return null;
      return {
        runId: view.runId,
        policy: POLICY,
        reason:
          `generalization peaked at ${best} at step ${bestStep} and is now ${current} ` +
          `(below best - ${minDelta}) after ${since} steps without a new best (threshold max(${steps}, ${share} × ${bestStep}) = ${wait})`,
        step: view.step,
        evidence: {
          window_start: bestStep,
          window_end: view.step,
          values: { best, bestStep, current, drop: best - current, stepsSinceBest: since },
          thresholds: { steps, share, wait, minDelta },
        },
      };
    };
  });
}
