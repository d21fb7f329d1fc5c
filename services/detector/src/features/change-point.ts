// The event the sequential change detectors (pageHinkley, cusum) emit. A type, not an operator.

export type ChangeDirection = 'increase' | 'decrease';

export interface ChangePoint {
  /** The step of the sample at which the statistic crossed its threshold. */
  step: number;
  /** The detector's statistic at that sample (> its threshold). */
  statistic: number;
  /** The reference mean in use there: Page–Hinkley's running mean, or CUSUM's target. */
  mean: number;
}
