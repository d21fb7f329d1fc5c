// Where an event stands in its run's history, so a detector can tell new facts from old ones.
//
// Ordered by step, then by what happens within a step: StepMetrics, ProbeSummary, Checkpointed,
// RunFinished, and last a RunStarted that resumes from that step. The step, not `seq`, is the
// key: a trainer resumed from a mid-run checkpoint after a crash re-emits the steps after the
// checkpoint with new event ids and seq numbers shifted by its own RunStarted (trainer/src/loop.ts),
// so by seq a re-emitted step would count as new and be seen twice; by step it is the same fact.
// A run resumed after an interrupted finish goes on past RunFinished's step, so it is new again.
import type { AnyEvent } from '@grokstream/schemas';

export interface EventPosition {
  step: number;
  /** Order within the step: see RANK. */
  rank: number;
}

const RANK = { StepMetrics: 0, ProbeSummary: 1, Checkpointed: 2, RunFinished: 3, RunStarted: 4 } as const;

/** The event's position in its run, or null for what is not a fact of a run's training. */
export function positionOf(e: AnyEvent): EventPosition | null {
  switch (e.name) {
    case 'StepMetrics':
    case 'ProbeSummary':
    case 'Checkpointed':
    case 'RunFinished':
      return { step: e.value.step, rank: RANK[e.name] };
    case 'RunStarted':
      // A fresh start comes before any step (step 0 included).
      return { step: e.value.resumed_from_step ?? -1, rank: RANK.RunStarted };
    default:
      return null;
  }
}

/** Strictly after `mark` (nothing is after itself); everything is after null. */
export function isAfter(p: EventPosition, mark: EventPosition | null): boolean {
  return mark === null || p.step > mark.step || (p.step === mark.step && p.rank > mark.rank);
}
