// Local trend with its uncertainty: is the metric rising (or falling), how fast, and is that more
// than its noise? The phase machine judges GROKKING's rise with it (docs/architecture.md, "Phases").
import type { OperatorFunction } from 'rxjs';
import type { Sample } from '../views.ts';
import { featureOperator, requireInteger, SampleWindow, type Stepper } from './internal.ts';
import { fitLine } from './least-squares.ts';

export interface Trend {
  step: number;
  /** Least-squares d value / d step over the window (actual steps, centered). */
  slope: number;
  /** The slope's standard error, from the residuals (σ̂² = SSres / (n − 2)). */
  stderr: number;
  /** σ̂: how far the samples scatter around the line (the metric's own noise, locally). */
  residualStd: number;
  /** Samples in the fit (≤ size). */
  samples: number;
  /** The fitted line passes through (meanStep, meanValue). */
  meanStep: number;
  meanValue: number;
}

/** The state machine behind `trend` (for the phase machine and policies, which step it directly). */
export function trendStepper(size: number): Stepper<Trend> {
  requireInteger('trend: size', size, 3);
  const w = new SampleWindow(size);
  return (s) => {
    w.push(s);
    const fit = fitLine(w);
    if (!fit || fit.stderr === null || fit.residualStd === null) return undefined;
    return { step: s.step, slope: fit.slope, stderr: fit.stderr, residualStd: fit.residualStd, samples: fit.n, meanStep: fit.meanStep, meanValue: fit.meanValue };
  };
}

/**
 * The least-squares line over the last `size` finite samples, with the slope's standard error:
 * emitted once ≥ 3 samples with distinct steps are held (two points fit any line exactly and say
 * nothing of the noise). `slope / stderr` is the t statistic of "the metric is moving".
 * Non-finite samples are skipped.
 */
export function trend(size: number): OperatorFunction<Sample, Trend> {
  requireInteger('trend: size', size, 3);
  return featureOperator(() => trendStepper(size));
}
