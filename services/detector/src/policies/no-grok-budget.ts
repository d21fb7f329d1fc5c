// A step budget for grokking: memorized runs that make no test progress within factor ×
// (steps to memorize) are stopped, unless precursors say grokking is on its way.
import type { OperatorFunction } from 'rxjs';
import type { RunView, StopDecision } from '../views.ts';
import { finiteOrNull, requireNonNegative, requirePositive } from './policy-options.ts';
import { statefulPolicy } from './stateful-policy.ts';

export interface GrokPrecursors {
  /** Relative fall of metrics.weight_norm over the window that counts as a precursor. Default 0.02. */
  weightNormDrop: number;
  /** Relative fall of the 'model'-scope GOP effective rank over the window. Default 0.05. */
  effectiveRankDrop: number;
  /** The precursor window, and the extension granted, in steps. Default 100. */
  window: number;
}

export interface NoGrokBudgetOptions {
  /** Budget = factor × memorizedAt steps after memorization; >= 0. */
  factor: number;
  /** Lower bound of the budget, in steps; >= 0. Default 0. */
  minBudget?: number;
  /** Precursor thresholds; missing fields take their defaults. */
  precursors?: Partial<GrokPrecursors>;
  /**
   * "Test progress" means generalization rose MORE than this above its value at memorization;
   * >= 0. Default 0.01 (one accuracy point when generalization is test accuracy).
   */
  minProgress?: number;
}

const POLICY = 'no_grok_budget';
export const DEFAULT_PRECURSORS: GrokPrecursors = { weightNormDrop: 0.02, effectiveRankDrop: 0.05, window: 100 };
/** Default NoGrokBudgetOptions.minProgress (the detector config's min_progress). */
export const DEFAULT_MIN_PROGRESS = 0.01;

interface Sample {
  step: number;
  value: number;
}

/** Relative fall from the oldest to the newest sample: (old - new) / old; null with < 2 samples or old <= 0. */
function relativeDrop(samples: readonly Sample[]): number | null {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first === undefined || last === undefined || samples.length < 2 || first.value <= 0) return null;
  return (first.value - last.value) / first.value;
}

function modelEffectiveRank(view: RunView): Sample | null {
  const probe = view.probe;
  if (probe === null) return null;
  const gop = probe.gop.find((g) => g.scope === 'model');
  const value = finiteOrNull(gop?.effective_rank);
  return value === null ? null : { step: probe.step, value };
}

/**
 * Conventions:
 * - Memorization M is the first non-null RunView.memorizedAt seen (later changes are ignored).
 *   budget = max(factor × M, minBudget); the deadline is M + budget.
 * - Test progress: the generalization at memorization g0 is the latest finite generalization at
 *   or before step M (or, if none, the first one measured after). The run made progress once a
 *   later finite generalization exceeds g0 + minProgress. From then on the policy never fires and
 *   keeps consuming silently (constant state). Null and non-finite generalization are skipped.
 * - On the first view at step >= deadline without progress, precursors are checked over the
 *   last `window` steps (samples with step >= current step - window; oldest vs newest):
 *   weight_norm fell by more than weightNormDrop (relative), or the 'model' GOP effective rank
 *   (from RunView.probe, one sample per probe step) fell by more than effectiveRankDrop.
 *   Non-finite weight norms / ranks are skipped; fewer than two samples means "no precursor".
 * - Extension rule: while a precursor holds at a check, the deadline moves to current step +
 *   window and the check repeats there; the first check with no precursor stops the run.
 * State: two windows of at most ~window samples each. Emits one decision and completes.
 */
export function noGrokBudget(options: NoGrokBudgetOptions): OperatorFunction<RunView, StopDecision> {
  const factor = requireNonNegative('noGrokBudget', 'factor', options.factor);
  const minBudget = requireNonNegative('noGrokBudget', 'minBudget', options.minBudget ?? 0);
  const minProgress = requireNonNegative('noGrokBudget', 'minProgress', options.minProgress ?? DEFAULT_MIN_PROGRESS);
  const p = { ...DEFAULT_PRECURSORS, ...options.precursors };
  const weightNormDrop = requireNonNegative('noGrokBudget', 'precursors.weightNormDrop', p.weightNormDrop);
  const effectiveRankDrop = requireNonNegative('noGrokBudget', 'precursors.effectiveRankDrop', p.effectiveRankDrop);
  const window = requirePositive('noGrokBudget', 'precursors.window', p.window);

  return statefulPolicy(() => {
    const norms: Sample[] = [];
    const ranks: Sample[] = [];
    let lastGen: number | null = null; // latest finite generalization up to memorization
    let memorizedAt: number | null = null;
    let budget = 0;
    let deadline = 0;
    let extensions = 0;
    let g0: number | null = null;
    let bestGen: number | null = null;
    let progressed = false;

    return (view): StopDecision | null => {
      if (progressed) return null;
      // precursor windows
      const norm = finiteOrNull(view.metrics.weight_norm);
      if (norm !== null) norms.push({ step: view.step, value: norm });
      const rank = modelEffectiveRank(view);
      if (rank !== null && rank.step !== ranks[ranks.length - 1]?.step) ranks.push(rank);
      const from = view.step - window;
      while (norms.length > 0 && (norms[0] as Sample).step < from) norms.shift();
      while (ranks.length > 0 && (ranks[0] as Sample).step < from) ranks.shift();

      const gen = finiteOrNull(view.generalization);
      if (memorizedAt === null) {
        if (view.memorizedAt === null) {
          if (gen !== null) lastGen = gen;
          return null;
        }
        memorizedAt = view.memorizedAt;
        budget = Math.max(factor * memorizedAt, minBudget);
        deadline = memorizedAt + budget;
        g0 = gen !== null && view.step <= memorizedAt ? gen : lastGen;
      } else if (gen !== null) {
        if (g0 === null) g0 = gen;
        bestGen = bestGen === null ? gen : Math.max(bestGen, gen);
        if (gen > g0 + minProgress) {
          progressed = true;
          return null;
        }
      }
      if (view.step < deadline) return null;

      const normDrop = relativeDrop(norms);
      const rankDrop = relativeDrop(ranks);
      if ((normDrop !== null && normDrop > weightNormDrop) || (rankDrop !== null && rankDrop > effectiveRankDrop)) {
        extensions += 1;
        deadline = view.step + window;
        return null;
      }
      const values: Record<string, number> = { memorizedAt, budget, deadline, extensions };
      if (g0 !== null) values['generalizationAtMemorization'] = g0;
      if (bestGen !== null) values['bestGeneralizationSince'] = bestGen;
      if (normDrop !== null) values['weightNormDrop'] = normDrop;
      if (rankDrop !== null) values['effectiveRankDrop'] = rankDrop;
      return {
        runId: view.runId,
        policy: POLICY,
        reason:
          `no test progress (generalization not above ${g0 ?? 'its value at memorization'} + ${minProgress}) ` +
          `within ${view.step - memorizedAt} steps of memorization at step ${memorizedAt} ` +
          `(budget ${budget}, ${extensions} extension(s)) and no grokking precursor`,
        step: view.step,
        evidence: {
          window_start: memorizedAt,
          window_end: view.step,
          values,
          thresholds: { factor, minBudget, minProgress, weightNormDrop, effectiveRankDrop, window },
        },
      };
    };
  });
}
