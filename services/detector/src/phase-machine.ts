// The phase classifier: one StepMetrics (and the latest probe) in, the run's phase and at most
// one phase change out. The phases follow docs/architecture.md, "Phases": WARMUP, MEMORIZATION
// (train fitted, test not), PLATEAU (memorized, test flat), GROKKING (test rising after
// memorization), CONVERGED (generalized), DEGRADATION (generalization fallen from its best:
// anti-grokking), DIVERGED (NaN/Inf or a loss spike; final).
//
// It is built on the feature state machines (features/): a rise is judged by the `trend` fit
// (slope with its standard error) over a window that scales with the run's memorization time, the
// best generalization is `bestSoFar`'s, the plateau level is an `ema`, and a rise is dated at the
// hinge of a "flat, then rising" fit (fitHinge). A rise counts when it is both real (slope − z·stderr > 0: more than the run's own
// noise) and fast enough to matter (on course to generalize within grokHorizon memorization
// times): a creep that would take a hundred is a plateau, however steady.
import { GENERALIZED_TEST_ACC, MEMORIZED_TRAIN_ACC, type Evidence, type Phase, type ProbeSummary, type StepMetrics } from '@grokstream/schemas';
import { DEFAULT_MIN_RISE, DIVERGENCE_Z, DivergenceWatch, type WatchVerdict } from './loss-spike.ts';
import { bestSoFarStepper, type BestSoFar } from './features/best-so-far.ts';
import { emaStepper } from './features/ema.ts';
import { finiteStepper, SampleWindow, type Stepper } from './features/internal.ts';
import { fitHinge } from './features/least-squares.ts';
import { trendStepper, type Trend } from './features/trend.ts';

export type NumericField = {
  [K in keyof StepMetrics]: StepMetrics[K] extends number | null ? (K extends 'seq' | 'ts' | 'step' ? never : K) : never;
}[keyof StepMetrics];

export interface PhaseOptions {
  /** The generalization metric: any numeric StepMetrics field; test accuracy by default. */
  metric: NumericField;
  /** Default: true for *_acc fields, false otherwise (losses). */
  higherIsBetter: boolean;
  /** Train accuracy at which the training set counts as fitted (classification). */
  memorizedTrainAcc: number;
  /** Train loss at which the training set counts as fitted when there is no accuracy (regression); null: never. */
  memorizedTrainLoss: number | null;
  /** Generalization counts as reached at this value of the metric (≥ if higher is better, else ≤). */
  generalizedAt: number;
  /** Steps that are WARMUP whatever happens (the first updates are noisy). */
  warmupSteps: number;
  /** The smallest trend window, in measurements; after memorization at step M it is max(window, M / 2). */
  window: number;
  /** A rise is real when slope − riseZ × its standard error > 0 (a one-sided t test). */
  riseZ: number;
  /** ...and matters when, at its pace, it would cover the rest of the way to `generalizedAt`
   *  within this many memorization times (max(M, window) steps): slow grokkers generalize 15–20×
   *  their memorization time after memorizing. The hopeless-run stop's horizon too. */
  grokHorizon: number;
  /** Memorized with no progress for this many steps: PLATEAU. */
  plateauSteps: number;
  /** A fall of the metric by this much below its best: DEGRADATION. */
  degradationDrop: number;
  /** Train loss above this factor × its recent minimum is a spike... */
  spikeFactor: number;
  /** ...when it also rose by more than this × the run's first train loss; a spike whose loss
   *  goes on climbing for confirmSteps steps is DIVERGED (loss-spike.ts). */
  minRise: number;
  /** A new phase must hold this many consecutive steps before it is announced (NaN/Inf: at once). */
  confirmSteps: number;
}

export const DEFAULT_PHASE_OPTIONS: PhaseOptions = {
  metric: 'test_acc',
  higherIsBetter: true,
  memorizedTrainAcc: MEMORIZED_TRAIN_ACC,
  memorizedTrainLoss: null,
  generalizedAt: GENERALIZED_TEST_ACC,
  warmupSteps: 10,
  window: 50,
  riseZ: 3,
  grokHorizon: 20,
  plateauSteps: 100,
  degradationDrop: 0.1,
  spikeFactor: 10,
  minRise: DEFAULT_MIN_RISE,
  confirmSteps: 5,
};

/** A rise that has covered this share of the way from the plateau level to the threshold is
 *  judged before its trend window is half full. */
export const CLEAR_RISE = 0.1;

/** The trend window can grow with the memorization time up to this many measurements. */
export const MAX_TREND_WINDOW = 500;

export function phaseOptions(partial: Partial<PhaseOptions> = {}): PhaseOptions {
  const metric = partial.metric ?? DEFAULT_PHASE_OPTIONS.metric;
  const o: PhaseOptions = {
    ...DEFAULT_PHASE_OPTIONS,
    higherIsBetter: partial.higherIsBetter ?? metric.endsWith('_acc'),
    ...partial,
  };
  for (const k of ['warmupSteps', 'window', 'plateauSteps', 'confirmSteps'] as const) {
    const min = k === 'warmupSteps' ? 0 : k === 'window' ? 3 : 1;
    if (!Number.isInteger(o[k]) || o[k] < min) throw new Error(`phase option ${k} must be a whole number ≥ ${min}, got ${o[k]}`);
  }
  for (const k of ['grokHorizon', 'degradationDrop'] as const) if (!(o[k] > 0)) throw new Error(`phase option ${k} must be > 0, got ${o[k]}`);
  if (!(o.riseZ >= 0)) throw new Error(`phase option riseZ must be ≥ 0, got ${o.riseZ}`);
  if (!(o.spikeFactor > 1)) throw new Error(`phase option spikeFactor must be > 1, got ${o.spikeFactor}`);
  if (!(o.minRise >= 0)) throw new Error(`phase option minRise must be ≥ 0, got ${o.minRise}`);
  return o;
}

/**
 * What a finished run keeps of its phase state, so that a run resumed after RunFinished goes on
 * from its phase instead of from WARMUP: the phase and a few scalars, none of the windows.
 */
export interface PhaseCarry {
  phase: Phase;
  memorizedAt: number | null;
  best: number;
  bestStep: number | null;
  lastProgress: number | null;
  lossScale: number | null;
}

export interface PhaseChange {
  phase: Phase;
  previous: Phase;
  /** The step the new phase began at (a GROKKING onset is dated back along the fitted rise). */
  step: number;
  evidence: Evidence;
}

export interface PhaseStep {
  phase: Phase;
  /** The oriented generalization measured at this step, or null. */
  generalization: number | null;
  /** Set when the announced phase changes at this step. */
  change?: PhaseChange;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * One run's phase classifier. State is bounded: the trend window (≤ MAX_TREND_WINDOW
 * measurements), the last `window` train losses (and a log-loss trend while a spike is watched), the last `confirmSteps` measurements and a
 * few scalars. Deterministic: the same steps give the same phases and changes.
 */
export class PhaseMachine {
  phase: Phase = 'WARMUP';
  memorizedAt: number | null = null;
  /** Generalization oriented higher-is-better (losses negated); best so far and when. */
  best = -Infinity;
  bestStep: number | null = null;
  /** Generalization now: the median of the last `confirmSteps` measurements, so one lucky or
   *  unlucky evaluation moves neither the best nor the phase. Carried across steps without one. */
  current: number | null = null;
  /** Step of the last significant rise after memorization. */
  lastProgress: number | null = null;
  /** The run's first finite train loss: the scale a spike must rise by a share of. */
  get lossScale(): number | null {
    return this.losses.scale;
  }
  /** The latest trend fit of the generalization since memorization. */
  trend: Trend | null = null;
  /** Whether the latest fit shows a real rise that matters. */
  rising = false;

  private candidate: Phase = 'WARMUP';
  private candidateSince = 0;
  private recent: number[] = [];
  private readonly losses: DivergenceWatch;
  private readonly bestOf: Stepper<BestSoFar>;
  private trendOf: Stepper<Trend> | null = null;
  /** The measurements the trend is fitted on (for the onset's hinge fit). */
  private since: SampleWindow | null = null;
  /** The plateau's level (an EMA of the generalization while it is not rising), where a rise starts from. */
  private levelOf: Stepper<{ step: number; value: number }> | null = null;
  level: number | null = null;
  private window = 0;
  /** The metric reached the generalization threshold and has not fallen clearly below it since. */
  private atThreshold = false;

  constructor(
    readonly o: PhaseOptions,
    carry?: PhaseCarry,
  ) {
    if (carry) {
      this.phase = carry.phase;
      this.candidate = carry.phase;
      this.memorizedAt = carry.memorizedAt;
      this.best = carry.best;
      this.bestStep = carry.bestStep;
      this.lastProgress = carry.lastProgress;
    }
    this.losses = new DivergenceWatch({ spikeFactor: o.spikeFactor, minRise: o.minRise, window: o.window, confirmSteps: o.confirmSteps, z: DIVERGENCE_Z }, carry?.lossScale ?? null);
    this.bestOf = finiteStepper(bestSoFarStepper({ mode: 'max' }, carry && carry.bestStep !== null ? { value: carry.best, step: carry.bestStep } : undefined));
    if (this.memorizedAt !== null) this.startTrend(this.memorizedAt);
  }

  carry(): PhaseCarry {
    return { phase: this.phase, memorizedAt: this.memorizedAt, best: this.best, bestStep: this.bestStep, lastProgress: this.lastProgress, lossScale: this.lossScale };
  }

  /** The trend window in measurements: max(window, M / 2), at most MAX_TREND_WINDOW. */
  private startTrend(memorizedAt: number): void {
    this.window = Math.min(MAX_TREND_WINDOW, Math.max(this.o.window, Math.round(memorizedAt / 2)));
    this.trendOf = finiteStepper(trendStepper(this.window));
    this.since = new SampleWindow(this.window);
    this.levelOf = finiteStepper(emaStepper(2 / (this.window + 1)));
  }

  /**
   * The pace a rise must reach: the rest of the way to the threshold by the grok horizon, M +
   * grokHorizon memorization times (the hopeless-run stop's too), and never less time than half
   * the horizon: a run past it may still grok, and then it climbs fast.
   */
  private rateFloor(threshold: number, step: number): number {
    const gap = this.current === null ? 0 : Math.max(0, threshold - this.current);
    const time = Math.max(this.memorizedAt ?? 0, this.o.window);
    const left = Math.max((this.memorizedAt ?? 0) + this.o.grokHorizon * time - step, (this.o.grokHorizon * time) / 2);
    return gap / left;
  }

  step(m: StepMetrics, _probe: ProbeSummary | null = null): PhaseStep {
    const o = this.o;
    const raw = m[o.metric] as number | null;
    const generalization = finite(raw) ? (o.higherIsBetter ? raw : -raw) : null;
    if (this.phase === 'DIVERGED') return { phase: this.phase, generalization };
    const threshold = o.higherIsBetter ? o.generalizedAt : -o.generalizedAt;

    // Facts of this step.
    const nonFinite = !Number.isFinite(m.train_loss) || (m.test_loss !== null && !Number.isFinite(m.test_loss));
    const fitted =
      (m.train_acc !== null && m.train_acc >= o.memorizedTrainAcc) ||
      (m.train_acc === null && o.memorizedTrainLoss !== null && m.train_loss <= o.memorizedTrainLoss);
    const watch: WatchVerdict = Number.isFinite(m.train_loss) ? this.losses.push(m.step, m.train_loss, m.train_acc !== null && m.train_acc >= o.memorizedTrainAcc, finite(m.train_acc) ? m.train_acc : null) : { kind: 'calm' };
    const diverging = watch.kind === 'diverged';
    if (this.memorizedAt === null && fitted && m.step > o.warmupSteps) {
      this.memorizedAt = m.step;
      this.startTrend(m.step);
    }
    if (generalization !== null) {
      this.recent.push(generalization);
      if (this.recent.length > o.confirmSteps) this.recent.shift();
      this.current = median(this.recent);
      const b = this.bestOf({ step: m.step, value: this.current });
      if (b) {
        this.best = b.best;
        this.bestStep = b.bestStep;
      }
      // GROKKING is the test metric rising after memorization (docs/architecture.md, "Phases"):
      // the trend starts at the memorization step, so a metric that crept up while the network
      // was still fitting its train set is not grokking.
      if (this.trendOf) {
        this.trend = this.trendOf({ step: m.step, value: generalization }) ?? this.trend;
        this.since!.push({ step: m.step, value: generalization });
        const t = this.trend;
        // Judged once the window is at least half full (a handful of points says little of a
        // trend), unless the metric has already covered CLEAR_RISE of its way from the plateau
        // level to the threshold: a fast grokker can go from memorized to generalized in 25 steps.
        const covered = this.level !== null && threshold > this.level ? (this.current! - this.level) / (threshold - this.level) : 0;
        const enough = 2 * (t?.samples ?? 0) >= this.window || covered >= CLEAR_RISE;
        this.rising = t !== null && t.step === m.step && enough && t.slope - o.riseZ * t.stderr > 0 && t.slope > this.rateFloor(threshold, m.step);
        if (!this.rising) this.level = this.levelOf!({ step: m.step, value: generalization })?.value ?? this.level;
      }
    }
    if (this.memorizedAt !== null && this.rising) this.lastProgress = m.step;
    const current = this.current;
    // Generalized once the metric reaches the threshold, and still so while it stays within twice
    // its own scatter (the trend fit's σ̂) below it: a run hovering on the threshold (0.94–0.95
    // for a hundred steps) reached it the first time it got there.
    const band = 2 * (this.trend?.residualStd ?? 0);
    if (current === null || current < threshold - band) this.atThreshold = false;
    else if (current >= threshold) this.atThreshold = true;
    const generalized = this.atThreshold;
    const dropped = current !== null && this.bestStep !== null && this.best - current >= o.degradationDrop;

    // What this step points to.
    let target: Phase;
    if (nonFinite || diverging) target = 'DIVERGED';
    else if (m.step <= o.warmupSteps) target = 'WARMUP';
    else if (dropped) target = 'DEGRADATION';
    else if (generalized && (this.memorizedAt !== null || m.train_acc === null)) target = 'CONVERGED';
    else if (this.phase === 'CONVERGED') target = 'CONVERGED'; // a dip short of a drop does not undo it
    else if (this.memorizedAt !== null) {
      const sinceProgress = m.step - (this.lastProgress ?? this.memorizedAt);
      if (this.rising) target = 'GROKKING';
      else if (sinceProgress >= o.plateauSteps) target = 'PLATEAU';
      else target = this.phase === 'GROKKING' || this.phase === 'PLATEAU' ? this.phase : 'MEMORIZATION';
    } else target = this.phase === 'WARMUP' ? 'WARMUP' : this.phase;

    if (target !== this.candidate) {
      this.candidate = target;
      this.candidateSince = m.step;
    }
    // NaN/Inf is final at once, and so is a climbing loss (the watch has confirmed it already); a
    // one-step spike is neither (anti-grokking has one and then goes on: S1).
    const confirmed = nonFinite || diverging || m.step - this.candidateSince + 1 >= o.confirmSteps;
    if (target === this.phase || !confirmed) return { phase: this.phase, generalization };

    const previous = this.phase;
    this.phase = target;
    const start = nonFinite ? m.step : watch.kind === 'diverged' ? watch.since : target === 'GROKKING' ? this.onsetEstimate() : this.candidateSince;
    return { phase: target, generalization, change: { phase: target, previous, step: start, evidence: this.evidence(m, target, start, threshold, watch.kind === 'diverged' ? watch : null) } };
  }

  /**
   * Where the rise began: the hinge of the best fit of "flat, then a straight rise" to the
   * measurements in the trend window, no earlier than memorization and no later than when the
   * rise was first seen. The detector sees a rise only once it is significant; the hinge says
   * when it started.
   */
  private onsetEstimate(): number {
    const pts: Array<[number, number]> = [];
    this.since?.forEach((step, value) => pts.push([step, value]));
    const hinge = fitHinge(pts);
    const lower = this.memorizedAt ?? this.candidateSince;
    if (!hinge) return this.candidateSince;
    return Math.round(Math.min(this.candidateSince, Math.max(lower, hinge.step)));
  }

  private evidence(m: StepMetrics, target: Phase, start: number, threshold: number, divergence: Extract<WatchVerdict, { kind: 'diverged' }> | null): Evidence {
    const o = this.o;
    const values: Record<string, number> = { train_loss: m.train_loss };
    if (m.train_acc !== null) values.train_acc = m.train_acc;
    if (this.current !== null) values.generalization = o.higherIsBetter ? this.current : -this.current;
    if (this.bestStep !== null) {
      values.best = o.higherIsBetter ? this.best : -this.best;
      values.best_step = this.bestStep;
    }
    if (this.memorizedAt !== null) values.memorized_at = this.memorizedAt;
    if (this.trend) {
      values.slope = this.trend.slope;
      values.slope_stderr = this.trend.stderr;
      values.trend_window = this.window;
    }
    if (this.level !== null) values.plateau_level = o.higherIsBetter ? this.level : -this.level;
    if (target === 'GROKKING' && this.memorizedAt !== null) values.grokking_delay = start - this.memorizedAt;
    if (divergence) {
      values.recent_min_loss = divergence.floor;
      values.log_loss_slope = divergence.slope;
      values.log_loss_slope_stderr = divergence.stderr;
    }
    const thresholds: Record<string, number> = {
      memorized_train_acc: o.memorizedTrainAcc,
      generalized_at: o.generalizedAt,
      rise_z: o.riseZ,
      grok_horizon: o.grokHorizon,
      rise_rate_floor: this.rateFloor(threshold, m.step),
      window: o.window,
      plateau_steps: o.plateauSteps,
      degradation_drop: o.degradationDrop,
      spike_factor: o.spikeFactor,
      min_rise: o.minRise,
      divergence_z: DIVERGENCE_Z,
      confirm_steps: o.confirmSteps,
    };
    return { window_start: start, window_end: m.step, values, thresholds };
  }
}
