// Divergence: a non-finite loss, or a loss that spiked far above its recent minimum and goes on climbing.
import type { OperatorFunction } from 'rxjs';
import { MEMORIZED_TRAIN_ACC } from '@grokstream/schemas';
import type { RunView, StopDecision } from '../views.ts';
import { finiteOrNull, requireOneOf, requirePositive, requirePositiveInteger } from './policy-options.ts';
import { statefulPolicy } from './stateful-policy.ts';
import { DEFAULT_MIN_RISE, DIVERGENCE_CONFIRM_STEPS, DIVERGENCE_Z, DivergenceWatch } from '../loss-spike.ts';

export type DivergenceMonitor = 'train_loss' | 'test_loss';

export interface DivergenceOptions {
  /** A spike: the monitored loss > spikeFactor × min of the previous `window` finite values; > 0. Default 10. */
  spikeFactor?: number;
  /** How many previous finite values (samples, not steps) the minimum is taken over; integer > 0. Default 20. */
  window?: number;
  /** The loss watched for spikes. Default 'train_loss'. */
  monitor?: DivergenceMonitor;
  /**
   * A spike must also rise by more than minRise × the run's first finite value of the monitored
   * loss (loss-spike.ts: zero-safe); ≥ 0. Default 1.
   */
  minRise?: number;
  /**
   * Divergence is a spike whose loss stays above the spike level for this many values and goes on
   * climbing (its log rises by more than DIVERGENCE_Z standard errors); 1: stop at the spike
   * itself. Integer > 0. Default 5.
   */
  confirmSteps?: number;
}

const POLICY = 'divergence';
const LOSSES: readonly DivergenceMonitor[] = ['train_loss', 'test_loss'];

/** The defaults of the divergence policy (the detector config's too). */
export const DIVERGENCE_DEFAULTS = { spikeFactor: 10, window: 20, monitor: 'train_loss', confirmSteps: DIVERGENCE_CONFIRM_STEPS } as const;

/**
 * Stops on the first view where train_loss or test_loss is NaN or ±Inf (test_loss null means
 * "not evaluated" and is fine), or where the monitored loss has diverged by the watch of
 * loss-spike.ts: a spike above spikeFactor × the minimum of the previous `window` finite values
 * (and by more than minRise × its first value), which then stays above that level for
 * `confirmSteps` values while its log climbs — unless the train accuracy is at the memorization
 * level (MEMORIZED_TRAIN_ACC) at that step: a fitted train set is not diverging. Null values are skipped. The evidence never carries
 * a non-finite number (JSON cannot): a non-finite loss shows as `<field>_nonfinite: 1` with its
 * kind in the reason. State: at most `window` numbers. Emits one decision and completes.
 */
export function divergence(options: DivergenceOptions = {}): OperatorFunction<RunView, StopDecision> {
  const spikeFactor = requirePositive(POLICY, 'spikeFactor', options.spikeFactor ?? DIVERGENCE_DEFAULTS.spikeFactor);
  const window = requirePositiveInteger(POLICY, 'window', options.window ?? DIVERGENCE_DEFAULTS.window);
  const monitor = requireOneOf(POLICY, 'monitor', options.monitor ?? DIVERGENCE_DEFAULTS.monitor, LOSSES);
  const confirmSteps = requirePositiveInteger(POLICY, 'confirmSteps', options.confirmSteps ?? DIVERGENCE_DEFAULTS.confirmSteps);
  const minRise = options.minRise ?? DEFAULT_MIN_RISE;
  if (!(minRise >= 0)) throw new Error(`${POLICY}: minRise must be ≥ 0, got ${options.minRise}`);
  return statefulPolicy(() => {
    const watch = new DivergenceWatch({ spikeFactor, window, minRise, confirmSteps, z: DIVERGENCE_Z });
    let last: number | null = null; // the last finite value of `monitor`
    return (view): StopDecision | null => {
      for (const field of LOSSES) {
        const v = view.metrics[field];
        if (v === null || Number.isFinite(v)) continue;
        const kind = Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
        const values: Record<string, number> = { [`${field}_nonfinite`]: 1 };
        if (last !== null) values[`last_finite_${monitor}`] = last;
        return {
          runId: view.runId,
          policy: POLICY,
          reason: `${field} is ${kind} at step ${view.step}`,
          step: view.step,
          evidence: { window_start: view.step, window_end: view.step, values, thresholds: {} },
        };
      }
      const current = view.metrics[monitor];
      if (current === null) return null;
      last = current;
      const trainAcc = view.metrics.train_acc;
      const verdict = watch.push(view.step, current, trainAcc !== null && trainAcc >= MEMORIZED_TRAIN_ACC, finiteOrNull(trainAcc));
      if (verdict.kind !== 'diverged') return null;
      const limit = spikeFactor * verdict.floor;
      const values: Record<string, number> = { current, windowMin: verdict.floor, first: verdict.scale, spikeStep: verdict.since, samples: verdict.samples };
      if (verdict.floor > 0) values['ratio'] = current / verdict.floor; // a zero minimum would make it infinite
      if (confirmSteps > 1) {
        values['logLossSlope'] = verdict.slope;
        values['logLossSlopeStderr'] = verdict.stderr;
      }
      const growth = confirmSteps > 1 ? ` and has climbed for ${verdict.samples} values since step ${verdict.since} (log slope ${verdict.slope.toPrecision(3)} ± ${verdict.stderr.toPrecision(2)})` : '';
      return {
        runId: view.runId,
        policy: POLICY,
        reason:
          `${monitor} ${current} exceeds ${spikeFactor} × ${verdict.floor}, the minimum of the ${window} values before the spike ` +
          `(limit ${limit}), a rise of more than ${minRise} × its first value ${verdict.scale}${growth}`,
        step: view.step,
        evidence: {
          window_start: verdict.since,
          window_end: view.step,
          values,
          thresholds: { spikeFactor, window, limit, minRise, minRiseAbs: minRise * Math.abs(verdict.scale), confirmSteps, z: DIVERGENCE_Z },
        },
      };
    };
  });
}
