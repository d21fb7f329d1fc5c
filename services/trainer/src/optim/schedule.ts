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

/** Learning rate at step (1-based: the first update is step 1). */
export function learningRate(o: ScheduleOptions, step: number): number {
  if (o.warmupSteps > 0 && step <= o.warmupSteps) return (o.lr * step) / o.warmupSteps;
  const t = step - o.warmupSteps;
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
