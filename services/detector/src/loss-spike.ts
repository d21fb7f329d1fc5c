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

import { finiteStepper, type Stepper } from './features/internal.ts';
import { trendStepper, type Trend } from './features/trend.ts';

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

/**
 * A spike is a suspicion; divergence is a loss that goes on climbing. With a large learning rate
 * a healthy run's loss can jump 500-fold on its second step and come back down over the next
 * hundred while both accuracies rise (the recorded run add-p59-lr2-wd0 groks); a diverging run's
 * loss grows by orders of magnitude step after step (add-p59-lr10-diverges: ×1000 a step, NaN at
 * step 13). So after a spike the watch fits the `trend` of log(loss) over the steps since, and
 * calls it divergence once `confirmSteps` losses have stayed above the spike level and the fit
 * rises by more than `z` standard errors; a loss that falls back below spikeFactor × the minimum
 * before the spike ends the watch, and so does a train set still fitted (see push).
 */
export interface DivergenceRule extends SpikeRule {
  /** Finite losses the recent minimum is taken over. */
  window: number;
  /** Losses (the spike's first included) that must stay above the spike level; 1: the spike
   *  alone is divergence (no growth test). */
  confirmSteps: number;
  /** The log-loss slope must exceed this many standard errors. */
  z: number;
}

/** Defaults shared by the phase machine and the divergence policy. */
export const DIVERGENCE_CONFIRM_STEPS = 5;
export const DIVERGENCE_Z = 3;

export type WatchVerdict =
  | { kind: 'calm' }
  | { kind: 'watching'; since: number; floor: number }
  | { kind: 'diverged'; since: number; floor: number; slope: number; stderr: number; samples: number; scale: number; recentMin: number };

export class DivergenceWatch {
  /** The run's first finite loss. */
  scale: number | null;
  private readonly recent: number[] = [];
  private watch: { since: number; floor: number; trend: Stepper<Trend>; samples: number; accAtSpike: number | null } | null = null;

  constructor(
    readonly rule: DivergenceRule,
    scale: number | null = null,
  ) {
    this.scale = scale;
  }

  /** The minimum of the last `window` finite losses (Infinity before the first). */
  get recentMin(): number {
    return this.recent.length > 0 ? Math.min(...this.recent) : Infinity;
  }

  /**
   * Feeds one finite loss (non-finite losses are the caller's business: they are divergence at
   * once). `fitted`: the train set is still classified right at this step (train accuracy at the
   * memorization level), so a climbing loss is a few huge-margin errors, not divergence: the
   * recorded add-p59-lr2-wd0 memorized with logits so large that its loss swings between 0 and
   * 100 from one step to the next, at train accuracy 0.998, and it generalized. `trainAcc`: a
   * watch is not confirmed while the train accuracy is above its value at the spike (the
   * recorded add-p59-lr5-wd0's loss climbs for 50 steps while it learns its train set).
   */
  push(step: number, loss: number, fitted = false, trainAcc: number | null = null): WatchVerdict {
    const r = this.rule;
    const min = this.recentMin;
    this.scale ??= loss;
    this.recent.push(loss);
    if (this.recent.length > r.window) this.recent.shift();
    if (this.watch && (fitted || !(loss > r.spikeFactor * this.watch.floor))) this.watch = null; // came back down, or still fitted
    if (fitted) return { kind: 'calm' };
    if (!this.watch) {
      if (!(Number.isFinite(min) && isLossSpike(loss, min, this.scale, r))) return { kind: 'calm' };
      this.watch = { since: step, floor: min, trend: finiteStepper(trendStepper(Math.max(3, r.window))), samples: 0, accAtSpike: trainAcc };
    }
    const w = this.watch;
    w.samples++;
    if (r.confirmSteps <= 1) return { kind: 'diverged', since: w.since, floor: w.floor, slope: 0, stderr: 0, samples: 1, scale: this.scale, recentMin: w.floor };
    const t = w.trend({ step, value: Math.log(loss) });
    // A network that still learns (its train accuracy above where it was at the spike) is not diverging.
    const learning = trainAcc !== null && w.accAtSpike !== null && trainAcc > w.accAtSpike;
    if (t && w.samples >= r.confirmSteps && t.slope - r.z * t.stderr > 0 && !learning) {
      return { kind: 'diverged', since: w.since, floor: w.floor, slope: t.slope, stderr: t.stderr, samples: w.samples, scale: this.scale, recentMin: w.floor };
    }
    return { kind: 'watching', since: w.since, floor: w.floor };
  }
}
