// Per-run, step-driven RxJS feature operators over Samples. See README.md.
export { ema, emaStepper } from './ema.ts';
export { windowMean } from './window-mean.ts';
export { slope } from './slope.ts';
export { trend, trendStepper, type Trend } from './trend.ts';
export { curvature } from './curvature.ts';
export { bestSoFar, bestSoFarStepper, type BestSoFar, type BestSoFarOptions } from './best-so-far.ts';
export { pageHinkley, type PageHinkleyOptions } from './page-hinkley.ts';
export { cusum, type CusumOptions } from './cusum.ts';
export type { ChangeDirection, ChangePoint } from './change-point.ts';
export { bocpd, type BocpdOptions, type BocpdOutput } from './bocpd.ts';
export { uShapeFit, type UShapeFit, type UShapeFitOptions } from './u-shape-fit.ts';
export { finiteStepper, isFiniteSample, type Stepper } from './internal.ts';
