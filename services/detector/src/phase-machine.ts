// The phase classifier as a pure reducer: one StepMetrics (and the latest probe) in, the run's
// phase and at most one phase change out. The phases follow docs/architecture.md, "Phases":
// WARMUP, MEMORIZATION (train fitted, test not), PLATEAU (memorized, test flat), GROKKING (test
// rising after memorization), CONVERGED (train and test fitted and stable), DEGRADATION
// (generalization falling from its best: anti-grokking), DIVERGED (NaN/Inf or a loss spike; final).
import { GENERALIZED_TEST_ACC, MEMORIZED_TRAIN_ACC, type Evidence, type Phase, type ProbeSummary, type StepMetrics } from '@grokstream/schemas';
import { DEFAULT_MIN_RISE, isLossSpike } from './loss-spike.ts';

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
  /** Steps over which rises and stability are judged. */
  window: number;
  /** A rise of the metric by this much over `window` steps is progress (in metric units). */
  riseDelta: number;
  /** Memorized with no progress for this many steps: PLATEAU. */
  plateauSteps: number;
  /** A fall of the metric by this much below its best: DEGRADATION. */
  degradationDrop: number;
  /** Train loss above this factor × its recent minimum: DIVERGED... */
  spikeFactor: number;
  /** ...when it also rose by more than this × the run's first train loss (loss-spike.ts). */
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
  riseDelta: 0.05,
  plateauSteps: 100,
  degradationDrop: 0.1,
  spikeFactor: 10,
  minRise: DEFAULT_MIN_RISE,
  confirmSteps: 5,
};

export function phaseOptions(partial: Partial<PhaseOptions> = {}): PhaseOptions {
  const metric = partial.metric ?? DEFAULT_PHASE_OPTIONS.metric;
  const o: PhaseOptions = {
    ...DEFAULT_PHASE_OPTIONS,
    higherIsBetter: partial.higherIsBetter ?? metric.endsWith('_acc'),
    ...partial,
  };
  for (const k of ['warmupSteps', 'window', 'plateauSteps', 'confirmSteps'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < (k === 'warmupSteps' ? 0 : 1)) throw new Error(`phase option ${k} must be a whole number ≥ ${k === 'warmupSteps' ? 0 : 1}, got ${o[k]}`);
  }
  for (const k of ['riseDelta', 'degradationDrop'] as const) if (!(o[k] > 0)) throw new Error(`phase option ${k} must be > 0, got ${o[k]}`);
  if (!(o.spikeFactor > 1)) throw new Error(`phase option spikeFactor must be > 1, got ${o.spikeFactor}`);
  if (!(o.minRise >= 0)) throw new Error(`phase option minRise must be ≥ 0, got ${o.minRise}`);
  return o;
}

/** Bounded per-run state: a ring of the last `window` metric values and a few scalars. */
export interface PhaseState {
  phase: Phase;
  /** The phase the latest steps point to, and since when (for confirmation). */
  candidate: Phase;
  candidateSince: number;
  memorizedAt: number | null;
  /** Generalization oriented higher-is-better (losses negated); best so far and when. */
  best: number;
  bestStep: number | null;
  /** Generalization now: the median of the last `confirmSteps` measurements, so one lucky or
   *  unlucky evaluation moves neither the best nor the phase. Carried across steps without one. */
  current: number | null;
  /** The last `confirmSteps` measurements, oriented. */
  recent: number[];
  /** (step, oriented generalization) over the last `window` steps. */
  history: Array<[number, number]>;
  /** Recent finite train losses, for spike detection. */
  losses: number[];
  /** The run's first finite train loss: the scale a spike must rise by a share of. */
  lossScale: number | null;
  /** Step of the last measurable progress after memorization. */
  lastProgress: number | null;
}

export function initialPhaseState(): PhaseState {
  return {
    phase: 'WARMUP',
    candidate: 'WARMUP',
    candidateSince: 0,
    memorizedAt: null,
    best: -Infinity,
    bestStep: null,
    current: null,
    recent: [],
    history: [],
    losses: [],
    lossScale: null,
    lastProgress: null,
  };
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

export function phaseCarry(s: PhaseState): PhaseCarry {
  return { phase: s.phase, memorizedAt: s.memorizedAt, best: s.best, bestStep: s.bestStep, lastProgress: s.lastProgress, lossScale: s.lossScale };
}

/** The state a resumed run starts from: its carried phase and scalars, with empty windows. */
export function resumedPhaseState(c: PhaseCarry): PhaseState {
  return { ...initialPhaseState(), ...c, candidate: c.phase };
}

export interface PhaseStep {
  state: PhaseState;
  /** The oriented generalization measured at this step, or null. */
  generalization: number | null;
  /** Set when the announced phase changes at this step. */
  change?: { phase: Phase; previous: Phase; step: number; evidence: Evidence };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const isFinite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

export function stepPhase(o: PhaseOptions, prev: PhaseState, m: StepMetrics, _probe: ProbeSummary | null = null): PhaseStep {
  const s: PhaseState = { ...prev, history: prev.history.slice(), losses: prev.losses.slice(), recent: prev.recent.slice() };
  const raw = m[o.metric] as number | null;
  const generalization = isFinite(raw) ? (o.higherIsBetter ? raw : -raw) : null;
  const threshold = o.higherIsBetter ? o.generalizedAt : -o.generalizedAt;

  if (s.phase === 'DIVERGED') return { state: s, generalization };

  // Facts of this step.
  const nonFinite = !Number.isFinite(m.train_loss) || (m.test_loss !== null && !Number.isFinite(m.test_loss));
  const recentMin = s.losses.length > 0 ? Math.min(...s.losses) : Infinity;
  const spiked = Number.isFinite(m.train_loss) && s.losses.length >= 3 && isLossSpike(m.train_loss, recentMin, s.lossScale ?? m.train_loss, o);
  if (Number.isFinite(m.train_loss)) {
    s.lossScale ??= m.train_loss;
    s.losses.push(m.train_loss);
    if (s.losses.length > o.window) s.losses.shift();
  }
  const fitted =
    (m.train_acc !== null && m.train_acc >= o.memorizedTrainAcc) ||
    (m.train_acc === null && o.memorizedTrainLoss !== null && m.train_loss <= o.memorizedTrainLoss);
  if (s.memorizedAt === null && fitted && m.step > o.warmupSteps) s.memorizedAt = m.step;
  if (generalization !== null) {
    s.recent.push(generalization);
    if (s.recent.length > o.confirmSteps) s.recent.shift();
    s.current = median(s.recent);
    s.history.push([m.step, s.current]);
    while (s.history.length > 0 && s.history[0]![0] <= m.step - o.window) s.history.shift();
    if (s.current > s.best) {
      s.best = s.current;
      s.bestStep = m.step;
    }
  }
  // GROKKING is the test metric rising after memorization (docs/architecture.md, "Phases"), so
  // once the run has memorized, the rise is measured from the memorization step on: a test metric
  // that crept up while the network was still fitting its train set is not grokking.
  const memorizedAt = s.memorizedAt;
  const oldest = (memorizedAt === null ? s.history[0] : s.history.find(([step]) => step >= memorizedAt))?.[1] ?? null;
  const rise = s.current !== null && oldest !== null ? s.current - oldest : 0;
  if (s.memorizedAt !== null && rise >= o.riseDelta) s.lastProgress = m.step;
  const generalized = s.current !== null && s.current >= threshold;
  const dropped = s.current !== null && s.bestStep !== null && s.best - s.current >= o.degradationDrop;

  // What this step points to.
  let target: Phase;
  if (nonFinite || spiked) target = 'DIVERGED';
  else if (m.step <= o.warmupSteps) target = 'WARMUP';
  else if (dropped) target = 'DEGRADATION';
  else if (generalized && (s.memorizedAt !== null || m.train_acc === null)) target = Math.abs(rise) < o.riseDelta ? 'CONVERGED' : 'GROKKING';
  else if (s.memorizedAt !== null) {
    const sinceProgress = m.step - (s.lastProgress ?? s.memorizedAt);
    if (rise >= o.riseDelta) target = 'GROKKING';
    else if (sinceProgress >= o.plateauSteps) target = 'PLATEAU';
    else target = s.phase === 'GROKKING' ? 'GROKKING' : 'MEMORIZATION';
  } else target = s.phase === 'WARMUP' ? 'WARMUP' : s.phase;

  if (target !== s.candidate) {
    s.candidate = target;
    s.candidateSince = m.step;
  }
  // NaN/Inf is final at once; a spike must persist like any other phase (anti-grokking has a
  // one-step spike and then goes on: S1).
  const confirmed = nonFinite || m.step - s.candidateSince + 1 >= o.confirmSteps;
  if (target === s.phase || !confirmed) return { state: s, generalization };

  const previous = s.phase;
  s.phase = target;
  const values: Record<string, number> = { train_loss: m.train_loss, rise };
  if (m.train_acc !== null) values.train_acc = m.train_acc;
  if (s.current !== null) values.generalization = o.higherIsBetter ? s.current : -s.current;
  if (s.bestStep !== null) {
    values.best = o.higherIsBetter ? s.best : -s.best;
    values.best_step = s.bestStep;
  }
  if (s.memorizedAt !== null) values.memorized_at = s.memorizedAt;
  if (target === 'GROKKING' && s.memorizedAt !== null) values.grokking_delay = s.candidateSince - s.memorizedAt;
  if (spiked) values.recent_min_loss = recentMin;
  const thresholds: Record<string, number> = {
    memorized_train_acc: o.memorizedTrainAcc,
    generalized_at: o.generalizedAt,
    rise_delta: o.riseDelta,
    window: o.window,
    plateau_steps: o.plateauSteps,
    degradation_drop: o.degradationDrop,
    spike_factor: o.spikeFactor,
    min_rise: o.minRise,
    confirm_steps: o.confirmSteps,
  };
  const start = nonFinite ? m.step : s.candidateSince;
  return {
    state: s,
    generalization,
    change: { phase: target, previous, step: start, evidence: { window_start: start, window_end: m.step, values, thresholds } },
  };
}
