// Keras-style EarlyStopping over one run's views.
import type { OperatorFunction } from 'rxjs';
import type { RunView, StopDecision } from '../views.ts';
import {
  finiteOrNull,
  METRIC_FIELDS,
  requireFinite,
  requireNonNegative,
  requireOneOf,
  requirePositive,
  type MetricField,
} from './policy-options.ts';
import { statefulPolicy } from './stateful-policy.ts';
import { bestSoFarStepper, type BestSoFar } from '../features/best-so-far.ts';
import type { Stepper } from '../features/internal.ts';

export type PatienceMonitor = MetricField | 'generalization';
export type PatienceMode = 'auto' | 'min' | 'max';

export interface PatienceOptions {
  /** A numeric StepMetrics field, or 'generalization' (RunView.generalization, higher is better). */
  monitor: PatienceMonitor;
  /** An improvement must beat the best by MORE than this (absolute, >= 0). Default 0. */
  minDelta?: number;
  /** Steps (in units of the `step` field, not samples) without improvement before stopping; > 0. */
  patience: number;
  /** 'auto': 'max' for fields containing "acc" and for 'generalization', 'min' otherwise. */
  mode?: PatienceMode;
  /** If set, the run must beat this value (by more than minDelta) within `patience` steps. */
  baseline?: number;
  /** Views before this step are ignored entirely (neither best nor waiting). Default 0. */
  startFromStep?: number;
}

const POLICY = 'patience';
const MONITORS: readonly PatienceMonitor[] = [...METRIC_FIELDS, 'generalization'];

/**
 * Keras EarlyStopping semantics, counted in steps:
 * - Only views at step >= startFromStep with a finite monitored value count. Views whose value is
 *   null (sparse eval) or non-finite (NaN/±Inf: the divergence policy's business) are skipped:
 *   they neither improve nor trigger.
 * - The clock starts at the first counted view: without baseline its value becomes the best;
 *   with baseline the best starts at the baseline and that view improves only if it beats it.
 * - Improvement: value > best + minDelta ('max') or value < best - minDelta ('min').
 * - Stop on the first counted view with (step - step of last improvement) >= patience (that is,
 *   in steps of the step field, because evaluations may be sparse; the check itself only runs on
 *   steps where the value was measured).
 * Emits one decision and completes.
 */
export function patience(options: PatienceOptions): OperatorFunction<RunView, StopDecision> {
  const monitor = requireOneOf(POLICY, 'monitor', options.monitor, MONITORS);
  const minDelta = requireNonNegative(POLICY, 'minDelta', options.minDelta ?? 0);
  const patienceSteps = requirePositive(POLICY, 'patience', options.patience);
  const modeOpt = requireOneOf(POLICY, 'mode', options.mode ?? 'auto', ['auto', 'min', 'max'] as const);
  const baseline = options.baseline === undefined ? undefined : requireFinite(POLICY, 'baseline', options.baseline);
  const startFromStep = requireFinite(POLICY, 'startFromStep', options.startFromStep ?? 0);
  const mode: 'min' | 'max' =
    modeOpt !== 'auto' ? modeOpt : monitor === 'generalization' || monitor.includes('acc') ? 'max' : 'min';
  const improves = (value: number, best: number): boolean =>
    mode === 'max' ? value > best + minDelta : value < best - minDelta;
  const read = (view: RunView): number | null =>
    finiteOrNull(monitor === 'generalization' ? view.generalization : view.metrics[monitor]);

  return statefulPolicy(() => {
    // The running best is bestSoFar's (Keras semantics: a new best beats the old by MORE than
    // minDelta); with a baseline it starts there, at the first counted view.
    let best: Stepper<BestSoFar> | null = null;
    let improved = false; // whether the best is a measured value (not the baseline)
    let lastImprovementStep = 0;

    return (view): StopDecision | null => {
      if (view.step < startFromStep) return null;
      const value = read(view);
      if (value === null) return null;
      const first = best === null;
      best ??= bestSoFarStepper({ mode, minDelta }, baseline === undefined ? undefined : { value: baseline, step: view.step });
      const b = best({ step: view.step, value })!;
      if (first) lastImprovementStep = view.step; // the clock starts at the first counted view
      if (b.bestStep === view.step && b.best === value && (first ? baseline === undefined || improves(value, baseline) : true)) {
        improved = true;
        lastImprovementStep = view.step;
        return null;
      }
      const waited = view.step - lastImprovementStep;
      if (waited < patienceSteps) return null;
      const thresholds: Record<string, number> = { patience: patienceSteps, minDelta };
      if (baseline !== undefined) thresholds['baseline'] = baseline;
      const reason = improved
        ? `${monitor} has not improved (${mode}, minDelta ${minDelta}) on its best ${b.best} ` +
          `from step ${lastImprovementStep} for ${waited} steps (patience ${patienceSteps})`
        : `${monitor} did not beat the baseline ${baseline} (${mode}, minDelta ${minDelta}) ` +
          `within ${waited} steps (patience ${patienceSteps})`;
      return {
        runId: view.runId,
        policy: POLICY,
        reason,
        step: view.step,
        evidence: {
          window_start: lastImprovementStep,
          window_end: view.step,
          values: {
            current: value,
            best: b.best,
            lastImprovementStep,
            stepsSinceImprovement: waited,
            baselineBeaten: baseline === undefined || improved ? 1 : 0,
          },
          thresholds,
        },
      };
    };
  });
}
