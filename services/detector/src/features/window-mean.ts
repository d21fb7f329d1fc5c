// Simple moving average over the last `size` samples: an unbiased smoother with a hard memory.
import type { OperatorFunction } from 'rxjs';
import type { Sample } from '../views.ts';
import { featureOperator, requireInteger, SampleWindow } from './internal.ts';

/**
 * Mean of the last `size` finite samples, emitted from the first sample on (over the samples
 * available until the window fills). The sum is recomputed over the window each time (O(size)),
 * so no floating-point drift accumulates over long runs. Non-finite samples are skipped.
 */
export function windowMean(size: number): OperatorFunction<Sample, Sample> {
  requireInteger('windowMean: size', size, 1);
  return featureOperator(() => {
    const w = new SampleWindow(size);
    return (s) => {
      w.push(s);
      let sum = 0;
      w.forEach((_t, y) => {
        sum += y;
      });
      return { step: s.step, value: sum / w.length };
    };
  });
}
