// Stop a run the classifier has judged CONVERGED for long enough.
import type { OperatorFunction } from 'rxjs';
import type { RunView, StopDecision } from '../views.ts';
import { requireNonNegative } from './policy-options.ts';
import { statefulPolicy } from './stateful-policy.ts';

export interface ConvergedForOptions {
  /** How long (in steps of the step field) the phase must have stayed CONVERGED; >= 0. */
  steps: number;
}

const POLICY = 'converged';

/**
 * Tracks the first step of the current run of consecutive CONVERGED views; any other phase
 * resets it. Stops on the first view with phase CONVERGED and (step - streak start) >= steps
 * (steps: 0 stops on the first CONVERGED view). Metric values are not read, so non-finite
 * metrics do not matter here. Emits one decision and completes.
 */
export function convergedFor(options: ConvergedForOptions): OperatorFunction<RunView, StopDecision> {
  const steps = requireNonNegative('convergedFor', 'steps', options.steps);
  return statefulPolicy(() => {
    let since: number | null = null;
    return (view): StopDecision | null => {
      if (view.phase !== 'CONVERGED') {
        since = null;
        return null;
      }
      since ??= view.step;
      const held = view.step - since;
      if (held < steps) return null;
      return {
        runId: view.runId,
        policy: POLICY,
        reason: `phase has been CONVERGED since step ${since} for ${held} steps (threshold ${steps})`,
        step: view.step,
        evidence: {
          window_start: since,
          window_end: view.step,
          values: { convergedSince: since, convergedForSteps: held },
          thresholds: { steps },
        },
      };
    };
  });
}
