// Divergence: a non-finite loss, or a loss spike far above its recent minimum.
import type { OperatorFunction } from 'rxjs';
import type { RunView, StopDecision } from '../views.ts';
import { requireOneOf, requirePositive, requirePositiveInteger } from './policy-options.ts';
import { statefulPolicy } from './stateful-policy.ts';
import { DEFAULT_MIN_RISE, isLossSpike } from '../loss-spike.ts';

export type DivergenceMonitor = 'train_loss' | 'test_loss';

export interface DivergenceOptions {
  /** Stop when the monitored loss > spikeFactor × min of the previous `window` finite values; > 0. Default 10. */
  spikeFactor?: number;
  /** How many previous finite values (samples, not steps) the minimum is taken over; integer > 0. Default 20. */
  window?: number;
  /** The loss watched for spikes. Default 'train_loss'. */
  monitor?: DivergenceMonitor;
  /**
   * A spike must also rise by more than minRise × the run's first finite value of the monitored
   * loss (loss-spike.ts: zero-safe); ≥ 0. Default 0.01.
   */
  minRise?: number;
}

const POLICY = 'divergence';
const LOSSES: readonly DivergenceMonitor[] = ['train_loss', 'test_loss'];

/**
 * Stops on the first view where train_loss or test_loss is NaN or ±Inf (test_loss null means
 * "not evaluated" and is fine), or where the monitored loss exceeds spikeFactor × the minimum of
 * the previous `window` finite values of that loss (the current value excluded; at least one
 * previous value needed; null values skipped). The evidence never carries a non-finite number
 * (JSON cannot): a non-finite loss shows as `<field>_nonfinite: 1` with its kind in the reason.
 * State: at most `window` numbers. Emits one decision and completes.
 */
/** The defaults of the divergence policy (the detector config's too). */
export const DIVERGENCE_DEFAULTS = { spikeFactor: 10, window: 20, monitor: 'train_loss' } as const;

export function divergence(options: DivergenceOptions = {}): OperatorFunction<RunView, StopDecision> {
  const spikeFactor = requirePositive(POLICY, 'spikeFactor', options.spikeFactor ?? DIVERGENCE_DEFAULTS.spikeFactor);
  const window = requirePositiveInteger(POLICY, 'window', options.window ?? DIVERGENCE_DEFAULTS.window);
  const monitor = requireOneOf(POLICY, 'monitor', options.monitor ?? DIVERGENCE_DEFAULTS.monitor, LOSSES);
  const minRise = options.minRise ?? DEFAULT_MIN_RISE;
  if (!(minRise >= 0)) throw new Error(`${POLICY}: minRise must be ≥ 0, got ${options.minRise}`);
  return statefulPolicy(() => {
    const recent: number[] = []; // the last `window` finite values of `monitor`
    const recentSteps: number[] = []; // their steps
    let scale: number | null = null; // the first finite value of `monitor`
    return (view): StopDecision | null => {
      for (const field of LOSSES) {
        const v = view.metrics[field];
        if (v === null || Number.isFinite(v)) continue;
        const kind = Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
        const values: Record<string, number> = { [`${field}_nonfinite`]: 1 };
        if (recent.length > 0) values[`last_finite_${monitor}`] = recent[recent.length - 1] as number;
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
      scale ??= current;
      if (recent.length > 0) {
        const min = Math.min(...recent);
        const limit = spikeFactor * min;
        if (isLossSpike(current, min, scale, { spikeFactor, minRise })) {
          const values: Record<string, number> = { current, windowMin: min, samples: recent.length, first: scale };
          if (min > 0) values['ratio'] = current / min; // a zero minimum would make it infinite
          return {
            runId: view.runId,
            policy: POLICY,
            reason:
              `${monitor} ${current} exceeds ${spikeFactor} × ${min}, the minimum of the last ` +
              `${recent.length} values (limit ${limit}), a rise of more than ${minRise} × its first value ${scale}`,
            step: view.step,
            evidence: {
              window_start: recentSteps[0] as number,
              window_end: view.step,
              values,
              thresholds: { spikeFactor, window, limit, minRise, minRiseAbs: minRise * Math.abs(scale) },
            },
          };
        }
      }
      recent.push(current);
      recentSteps.push(view.step);
      if (recent.length > window) {
        recent.shift();
        recentSteps.shift();
      }
      return null;
    };
  });
}
