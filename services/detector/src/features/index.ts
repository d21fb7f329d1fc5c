// Per-run, step-driven RxJS feature operators over Samples. See README.md.
export { ema } from './ema.ts';
export { windowMean } from './window-mean.ts';
export { slope } from './slope.ts';
export { curvature } from './curvature.ts';
export { bestSoFar, type BestSoFar, type BestSoFarOptions } from './best-so-far.ts';
export { pageHinkley, type PageHinkleyOptions } from './page-hinkley.ts';
export { cusum, type CusumOptions } from './cusum.ts';
export type { ChangeDirection, ChangePoint } from './change-point.ts';
export { bocpd, type BocpdOptions, type BocpdOutput } from './bocpd.ts';
export { uShapeFit, type UShapeFit, type UShapeFitOptions } from './u-shape-fit.ts';
export { isFiniteSample } from './internal.ts';
