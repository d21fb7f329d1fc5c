// Local trend: is the metric still moving, and how fast per step (plateau / convergence tests).
import type { OperatorFunction } from 'rxjs';
import type { Sample } from '../views.ts';
import { featureOperator, requireInteger, SampleWindow } from './internal.ts';
import { fitLine } from './least-squares.ts';

/**
 * Least-squares slope d value / d step over the last `size` finite samples, fitted on the actual
 * (possibly uneven) steps, centered. Emitted once ≥ 2 samples with distinct steps are held.
 * Non-finite samples are skipped.
 */
export function slope(size: number): OperatorFunction<Sample, Sample> {
  requireInteger('slope: size', size, 2);
  return featureOperator(() => {
    const w = new SampleWindow(size);
    return (s) => {
      w.push(s);
      const fit = fitLine(w);
      return fit ? { step: s.step, value: fit.slope } : undefined;
    };
  });
}
