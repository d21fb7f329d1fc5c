// When a loss spike means divergence, for the divergence policy and the phase machine alike: the
// loss must exceed spikeFactor × its recent minimum AND have risen by more than minRise × the
// run's loss scale (its first finite loss). The second condition makes the rule zero-safe and
// keeps it off the spikes of healthy runs:
// - a memorized run's loss wandering between 2e-7 and 2e-6 is a tenfold "spike" of nothing, and
//   a minimum of exactly 0 would make any positive loss infinitely many times larger;
// - the slingshot (Thilak et al. 2022): with Adam, a memorized run's loss jumps by orders of
//   magnitude and falls back, often as generalization begins. The one-layer transformer example
//   went from 2e-7 to 0.065 at step 1363 and grokked 900 steps later; at minRise 0.01 the
//   divergence policy had stopped it there.
// The default, 1, asks the loss to climb back by a whole initial loss (for a classifier, past
// chance level from its minimum): what a run that truly diverges does, and quickly.

/** Default share of the run's first loss a spike must rise by (1: from 4.1 at init, by 4.1). */
export const DEFAULT_MIN_RISE = 1;

export interface SpikeRule {
  spikeFactor: number;
  minRise: number;
}

/** Whether `current` is a divergent spike over `recentMin`, on a run whose first loss was `scale`. */
export function isLossSpike(current: number, recentMin: number, scale: number, rule: SpikeRule): boolean {
  return current > rule.spikeFactor * recentMin && current - recentMin > rule.minRise * Math.abs(scale);
}
