// When a loss spike means divergence, for the divergence policy and the phase machine alike: the
// loss must exceed spikeFactor × its recent minimum AND have risen by more than minRise × the
// run's loss scale (its first finite loss). The second condition makes the rule zero-safe: a
// memorized run's loss wandering between 2e-7 and 2e-6 is a tenfold "spike" of nothing; a
// minimum of exactly 0 would make any positive loss infinitely many times larger.

/** Default share of the run's first loss a spike must rise by (0.01: from 4.1 at init, 0.041). */
export const DEFAULT_MIN_RISE = 0.01;

export interface SpikeRule {
  spikeFactor: number;
  minRise: number;
}

/** Whether `current` is a divergent spike over `recentMin`, on a run whose first loss was `scale`. */
export function isLossSpike(current: number, recentMin: number, scale: number, rule: SpikeRule): boolean {
  return current > rule.spikeFactor * recentMin && current - recentMin > rule.minRise * Math.abs(scale);
}
