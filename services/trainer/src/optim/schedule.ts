// Learning-rate schedule: linear warm-up, then a decay. Pure, so it is tested directly.

export interface ScheduleOptions {
  lr: number;
  warmupSteps: number;
  decay: 'none' | 'cosine' | 'linear' | 'step';
  /** Total steps, the horizon of cosine and linear decay. */
  totalSteps: number;
  minLr: number;
  /** step decay: multiply by gamma every stepSize steps (after warm-up). */
  stepSize: number;
  gamma: number;
}

/**
 * Learning rate of update `step` (1-based, as StepMetrics.step). With t = step − 1, T the total
 * steps and w the warm-up (the formula documented in config/schema.ts): t < w: lr·(t+1)/w; then
 * u = (t − w)/(T − w): none lr; cosine min + (lr − min)(1 + cos πu)/2; linear lr + (min − lr)u;
 * step max(min, lr·γ^⌊(t − w)/step_size⌋).
 */
export function learningRate(o: ScheduleOptions, step: number): number {
  const t0 = step - 1;
  if (t0 < o.warmupSteps) return (o.lr * (t0 + 1)) / o.warmupSteps;
  const t = t0 - o.warmupSteps;
  const span = Math.max(1, o.totalSteps - o.warmupSteps);
  const frac = Math.min(1, t / span);
  switch (o.decay) {
    case 'none':
      return o.lr;
    case 'cosine':
      return o.minLr + 0.5 * (o.lr - o.minLr) * (1 + Math.cos(Math.PI * frac));
    case 'linear':
      return o.lr + (o.minLr - o.lr) * frac;
    case 'step':
      return Math.max(o.minLr, o.lr * o.gamma ** Math.floor(t / Math.max(1, o.stepSize)));
  }
}
