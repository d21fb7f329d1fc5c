// The two milestones of a classification run, the same everywhere: the trainer's end-of-run
// summary (memorized at / grokked at), the detector's phase thresholds (their defaults), the
// evaluation's labeller and the CLI's words. docs/architecture.md, "Phases".

/** A run has memorized its training set once train accuracy reaches this. */
export const MEMORIZED_TRAIN_ACC = 0.99;

/** A run has generalized (grokked, after memorizing) once test accuracy reaches this. */
export const GENERALIZED_TEST_ACC = 0.95;
