// Local acceleration: bending of the curve (onset or end of a rise, U-shaped bottoms).
import type { OperatorFunction } from 'rxjs';
import type { Sample } from '../views.ts';
import { featureOperator, requireInteger, SampleWindow } from './internal.ts';
import { fitQuadratic } from './least-squares.ts';

/**
 * Second derivative d²value / d step² from a least-squares quadratic a·step² + b·step + c over the
 * last `size` finite samples (= 2a), fitted on the actual steps, centered and scaled. Emitted
 * once ≥ 3 samples with ≥ 3 distinct steps are held. Non-finite samples are skipped.
 */
export function curvature(size: number): OperatorFunction<Sample, Sample> {
  requireInteger('curvature: size', size, 3);
  return featureOperator(() => {
    const w = new SampleWindow(size);
    return (s) => {
      w.push(s);
      const fit = fitQuadratic(w);
      return fit ? { step: s.step, value: 2 * fit.a } : undefined;
    };
  });
}
