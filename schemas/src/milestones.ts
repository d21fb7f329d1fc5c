// The two milestones of a classification run, the same everywhere: the trainer's end-of-run
// summary (memorized at / grokked at), the store's run_summary (services/store/src/rollups.ts:
// the same rule in SQL), the detector's phase thresholds (their defaults), the evaluation's
// labeller and the CLI's words. docs/architecture.md, "Phases".

/** A run has memorized its training set once train accuracy reaches this. */
export const MEMORIZED_TRAIN_ACC = 0.99;

/** A run has generalized (grokked, after memorizing) once test accuracy reaches this. */
export const GENERALIZED_TEST_ACC = 0.95;

/**
 * The grokking step from the two firsts: the first step with train accuracy ≥ MEMORIZED_TRAIN_ACC
 * and the first with test accuracy ≥ GENERALIZED_TEST_ACC. A run grokked when it generalized at
 * or after memorizing; one that generalized first did not grok (null). The store keeps the two
 * firsts as incremental aggregates (a "first after" is not one), so this rule is what it can
 * compute exactly, and the trainer uses it too.
 */
export function grokkedStep(memorized: number | null, generalized: number | null): number | null {
  return memorized !== null && generalized !== null && generalized >= memorized ? generalized : null;
}
