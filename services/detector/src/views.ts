// What flows between the detector's stages. Everything is per run and ordered by step; no
// operator reads the clock, so replaying the same events gives the same results.
import type { Evidence, Phase, ProbeSummary, StepMetrics } from '@grokstream/schemas';

/** One observation of a monitored metric. Features take and give these. */
export interface Sample {
  step: number;
  value: number;
}

/** A run as the policies see it at one step: the facts plus the classifier's verdict. */
export interface RunView {
  runId: string;
  step: number;
  metrics: StepMetrics;
  /** The latest ProbeSummary at or before this step, if any. */
  probe: ProbeSummary | null;
  phase: Phase;
  /** First step at which the training set was fitted (train accuracy ≥ threshold), if yet. */
  memorizedAt: number | null;
  /**
   * The monitored generalization metric at this step, oriented so that higher is better
   * (test accuracy by default; a lower-is-better metric such as test loss is negated), or null
   * when this step did not measure it.
   */
  generalization: number | null;
}

/** A policy's decision to stop a run; the service turns it into a StopRun command. */
export interface StopDecision {
  runId: string;
  policy: 'patience' | 'converged' | 'degradation' | 'no_grok_budget' | 'divergence';
  reason: string;
  step: number;
  evidence: Evidence;
}
