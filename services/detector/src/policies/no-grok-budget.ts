// The hopeless-run stop: a memorized run whose generalization, at its present pace, would not
// reach the target within `factor` memorization times after memorizing — and no precursor says
// grokking is on its way — is stopped. A default policy (config.ts).
//
// Why a projected pace and not a deadline: slow grokkers generalize 15–20× their memorization
// time after memorizing, and their test accuracy climbs the whole way (the recorded
// add-p59-f0.4-wd0.3: memorized at 113, 0.09 at 450, 0.58 at 1,000, 0.95 at 1,688), while a run
// without weight decay creeps up at a fifth of that pace and stalls (add-p59-f0.5-wd0: 0.08 at
// 450, 0.19 at 1,000, 0.22 for good). A fixed "+0.01 is progress" let the creep run on forever;
// the projection tells them apart from 3 memorization times on (eval/README.md). The pace is the
// `trend` fit's slope plus `z` standard errors: the benefit of the doubt. A slow grokker whose
// test accuracy stays flat (the transformer: ~1,500 steps after memorizing at 83) is told apart by
// its precursor: of those the precursor study measured, only the Fourier sparsity separated the
// runs that will grok from those that never do (`pnpm study:precursors`).
import type { OperatorFunction } from 'rxjs';
import { GENERALIZED_TEST_ACC } from '@grokstream/schemas';
import type { RunView, StopDecision } from '../views.ts';
import { finiteStepper, type Stepper } from '../features/internal.ts';
import { trendStepper, type Trend } from '../features/trend.ts';
import { finiteOrNull, requireFinite, requireNonNegative, requirePositive } from './policy-options.ts';
import { statefulPolicy } from './stateful-policy.ts';
import { DEFAULT_PHASE_OPTIONS } from '../phase-machine.ts';

export interface GrokPrecursors {
  /** A weight norm falling by at least this share of itself per memorization time (and by more
   *  than z standard errors) holds the stop off: weight decay winning, the precursor of Liu et al.
   *  Null: not used. Default null: in the precursor study no recorded run's weight norm fell
   *  before its test accuracy rose (the transformer's stays flat through its plateau). */
  weightNormDrop: number | null;
  /** A Fourier sparsity (ProbeSummary extra `fourier_sparsity`, modular tasks with the Fourier
   *  probe on) rising by at least this share of itself per memorization time (and by more than z
   *  standard errors) holds the stop off: the network is forming the Fourier circuit of Nanda et
   *  al. On the recorded runs it rose 2.4–5.7% per memorization time all through the
   *  transformer's 1,500-step plateau, and at most 1.3% in the runs that never generalize.
   *  Default 0.02. */
  fourierRise: number;
}

export interface NoGrokBudgetOptions {
  /** The projected grok step must fall within factor × M steps after memorization at M; > 0. Default 20. */
  factor?: number;
  /** No decision before minAge × M steps after memorization; ≥ 0. Default 3. */
  minAge?: number;
  /** The budget in steps is at least this (for runs that memorize in a handful of steps); ≥ 0. Default 0. */
  minBudget?: number;
  /** The generalization to reach (oriented: higher is better). Default GENERALIZED_TEST_ACC (0.95). */
  target?: number;
  /** A run that has covered this share of the way from its level at memorization to the target
   *  is grokking, never hopeless; (0, 1]. Default 0.5. */
  reach?: number;
  /** Optimism: the pace is slope + z × its standard error. ≥ 0. Default 3. */
  z?: number;
  precursors?: Partial<GrokPrecursors>;
}

const POLICY = 'no_grok_budget';

/** The trend of a few (step, value) samples, through the same state machine as every trend. */
function fitSamples(samples: ReadonlyArray<{ step: number; value: number }>): Trend | null {
  if (samples.length < 3) return null;
  const fit = trendStepper(samples.length);
  let t: Trend | undefined;
  for (const x of samples) t = fit(x) ?? t;
  return t ?? null;
}
export const DEFAULT_PRECURSORS: GrokPrecursors = { weightNormDrop: null, fourierRise: 0.02 };
/** The defaults of the hopeless-run stop (the detector config's too). */
export const NO_GROK_DEFAULTS = { factor: DEFAULT_PHASE_OPTIONS.grokHorizon, minAge: 3, minBudget: 0, reach: 0.5, z: DEFAULT_PHASE_OPTIONS.riseZ } as const;
/** Trend windows: max(MIN_WINDOW, M) steps. */
const MIN_WINDOW = 50;

/**
 * Conventions:
 * - Memorization M is the first non-null RunView.memorizedAt (later changes are ignored); the
 *   level at memorization g0 is the first finite generalization at or after M.
 * - From M on, `trend` fits run over the generalization and over metrics.weight_norm, each over
 *   the last max(50, M) steps' worth of samples (the sample spacing is read off the first two
 *   measurements after M).
 * - At every view with a finite generalization from M + max(minAge × M, 1) on: the run is
 *   hopeless when it has not covered `reach` of the way from g0 to the target, its projected
 *   grok step (now + (target − fitted level now) / (slope + z·stderr)) lies beyond
 *   M + max(factor × M, minBudget) (or the optimistic pace is ≤ 0), the rise is not speeding up
 *   (the slope over the last window does not exceed the slope over the window before by more
 *   than z standard errors of the difference), and no precursor holds: the
 *   Fourier sparsity of the latest probes (one sample per probe step since M, over the last
 *   max(window, 5 probe intervals) steps) rising by fourierRise per memorization time
 *   (slope − z·stderr > 0), or, when weightNormDrop is set, the weight norm falling by it per
 *   memorization time (slope·M / level ≤ −weightNormDrop and slope + z·stderr < 0). The first
 *   hopeless view stops the run.
 * State: trend windows (the generalization over 2 × window steps). Emits one decision and completes.
 */
export function noGrokBudget(options: NoGrokBudgetOptions = {}): OperatorFunction<RunView, StopDecision> {
  const factor = requirePositive('noGrokBudget', 'factor', options.factor ?? NO_GROK_DEFAULTS.factor);
  const minAge = requireNonNegative('noGrokBudget', 'minAge', options.minAge ?? NO_GROK_DEFAULTS.minAge);
  const minBudget = requireNonNegative('noGrokBudget', 'minBudget', options.minBudget ?? NO_GROK_DEFAULTS.minBudget);
  const target = requireFinite('noGrokBudget', 'target', options.target ?? GENERALIZED_TEST_ACC);
  const reach = requirePositive('noGrokBudget', 'reach', options.reach ?? NO_GROK_DEFAULTS.reach);
  if (reach > 1) throw new Error(`noGrokBudget: option 'reach' must be ≤ 1, got ${reach}`);
  const z = requireNonNegative('noGrokBudget', 'z', options.z ?? NO_GROK_DEFAULTS.z);
  const normOption = options.precursors?.weightNormDrop === undefined ? DEFAULT_PRECURSORS.weightNormDrop : options.precursors.weightNormDrop;
  const weightNormDrop = normOption === null ? null : requireNonNegative('noGrokBudget', 'precursors.weightNormDrop', normOption);
  const fourierRise = requireNonNegative('noGrokBudget', 'precursors.fourierRise', options.precursors?.fourierRise ?? DEFAULT_PRECURSORS.fourierRise);

  return statefulPolicy(() => {
    let memorizedAt: number | null = null;
    let g0: number | null = null;
    let firstAfter: number | null = null; // the step of the first generalization after M (for the spacing)
    let gen: Stepper<Trend> | null = null;
    let norm: Stepper<Trend> | null = null;
    let genTrend: Trend | null = null;
    let normTrend: Trend | null = null;
    const fourierSamples: Array<{ step: number; value: number }> = []; // one per probe step, the last `window` steps' worth
    const recent: Array<{ step: number; value: number }> = []; // the generalization over the last 2 × window steps

    return (view): StopDecision | null => {
      if (memorizedAt === null) {
        if (view.memorizedAt === null) return null;
        memorizedAt = view.memorizedAt;
      }
      const M = memorizedAt;
      const window = Math.max(MIN_WINDOW, M);
      const g = finiteOrNull(view.generalization);
      const w = finiteOrNull(view.metrics.weight_norm);
      if (w !== null) {
        // weight_norm comes with every StepMetrics: one sample per step
        norm ??= finiteStepper(trendStepper(Math.max(3, window)));
        normTrend = norm({ step: view.step, value: w }) ?? normTrend;
      }
      const fourier = view.probe ? finiteOrNull(view.probe.extra['fourier_sparsity']) : null;
      if (fourier !== null && view.probe!.step >= M && view.probe!.step !== fourierSamples.at(-1)?.step) {
        fourierSamples.push({ step: view.probe!.step, value: fourier });
        // keep max(window, 5 probe intervals) steps: enough samples for a trend when probes are sparse
        const spacing = fourierSamples.length > 1 ? fourierSamples.at(-1)!.step - fourierSamples.at(-2)!.step : 0;
        while (fourierSamples.length > 5 && fourierSamples[0]!.step < view.step - Math.max(window, 5 * spacing)) fourierSamples.shift();
      }
      if (g === null) return null;
      if (g0 === null) {
        g0 = g;
        firstAfter = view.step;
        return null;
      }
      if (gen === null) {
        const spacing = Math.max(1, view.step - firstAfter!);
        gen = finiteStepper(trendStepper(Math.max(3, Math.round(window / spacing))));
        gen({ step: firstAfter!, value: g0 });
      }
      genTrend = gen({ step: view.step, value: g }) ?? genTrend;
      recent.push({ step: view.step, value: g });
      while (recent.length > 0 && recent[0]!.step <= view.step - 2 * window) recent.shift();
      const age = view.step - M;
      if (age < Math.max(minAge * M, 1) || genTrend === null) return null;
      if (g - g0 >= reach * (target - g0)) return null; // well on its way
      const t = genTrend;
      const level = t.meanValue + t.slope * (view.step - t.meanStep);
      const pace = t.slope + z * t.stderr;
      const horizon = M + Math.max(factor * M, minBudget);
      // A pace that would not move it by a millionth of the way within the horizon is no pace.
      const projected = pace * (horizon - M) > 1e-6 * Math.abs(target - g0) ? view.step + (target - level) / pace : Infinity;
      if (projected <= horizon) return null;
      // Speeding up: the slope over the last window exceeds the one over the window before by more
      // than z standard errors of their difference. A projection of the present pace underrates
      // such a rise: the recorded add-p59-f0.3-wd1 creeps at first (0.08 at 4 memorization times,
      // a straight line to 0.95 beyond 25) and generalizes at 13. The runs that never generalize
      // slow down instead.
      const late = fitSamples(recent.filter((x) => x.step > view.step - window));
      const early = fitSamples(recent.filter((x) => x.step <= view.step - window));
      const speedup = late && early ? { gain: late.slope - early.slope, stderr: Math.hypot(late.stderr, early.stderr) } : null;
      if (speedup && late!.slope > 0 && speedup.gain - z * speedup.stderr > 0) return null;
      const n = normTrend;
      const normPerM = n !== null && Math.abs(n.meanValue) > 0 ? (n.slope * M) / Math.abs(n.meanValue) : null;
      if (weightNormDrop !== null && n !== null && normPerM !== null && normPerM <= -weightNormDrop && n.slope + z * n.stderr < 0) return null; // weight decay is winning
      const f = fitSamples(fourierSamples);
      const fourierPerM = f !== null && Math.abs(f.meanValue) > 0 ? (f.slope * M) / Math.abs(f.meanValue) : null;
      if (f !== null && fourierPerM !== null && fourierPerM >= fourierRise && f.slope - z * f.stderr > 0) return null; // a Fourier circuit is forming
      const values: Record<string, number> = { memorizedAt: M, age, generalization: g, generalizationAtMemorization: g0, level, slope: t.slope, slopeStderr: t.stderr, pace, horizon };
      if (Number.isFinite(projected)) values['projectedGrokStep'] = projected;
      if (normPerM !== null) values['weightNormChangePerMemorization'] = normPerM;
      if (fourierPerM !== null) values['fourierSparsityChangePerMemorization'] = fourierPerM;
      if (speedup) {
        values['slopeGainOverWindow'] = speedup.gain;
        values['slopeGainStderr'] = speedup.stderr;
      }
      const when = Number.isFinite(projected) ? `would reach ${target} only at step ${Math.round(projected)}` : `is not rising (slope ${t.slope.toPrecision(2)} ± ${t.stderr.toPrecision(2)})`;
      return {
        runId: view.runId,
        policy: POLICY,
        reason:
          `hopeless: memorized at step ${M}; generalization ${g.toPrecision(3)} (${g0.toPrecision(3)} at memorization) ${when}; ` +
          `it would not generalize within ${factor} × ${M} steps of memorizing (by step ${horizon}); ` +
          (fourierPerM === null ? 'no Fourier probe to say otherwise' : `the Fourier sparsity is not rising (${(100 * fourierPerM).toFixed(1)}% per memorization time)`) +
          (weightNormDrop === null ? '' : ', nor the weight norm falling'),
        step: view.step,
        evidence: {
          window_start: M,
          window_end: view.step,
          values,
          thresholds: { factor, minAge, minBudget, target, reach, z, fourierRise, window, ...(weightNormDrop === null ? {} : { weightNormDrop }) },
        },
      };
    };
  });
}
