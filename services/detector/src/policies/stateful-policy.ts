// The shape every early-stop policy shares: fresh state per subscription, a pure step
// function over the views of one run, and at most one decision, after which the operator
// completes (and unsubscribes from its source). No clock, no randomness.
import { defer, filter, map, take, type OperatorFunction } from 'rxjs';
import type { RunView, StopDecision } from '../views.ts';

/** Consumes one view; returns the decision when the policy fires, else null. */
export type PolicyStep = (view: RunView) => StopDecision | null;

/**
 * Turn a factory of per-run step functions into an operator. The factory runs once per
 * subscription, so two subscribers (or a replay) never share state. Emits the first
 * decision and completes at once; completes silently when the source completes without one.
 */
export function statefulPolicy(init: () => PolicyStep): OperatorFunction<RunView, StopDecision> {
  return (source) =>
    defer(() => {
      const step = init();
      return source.pipe(
        map((view) => step(view)),
        filter((d): d is StopDecision => d !== null),
        take(1),
      );
    });
}
