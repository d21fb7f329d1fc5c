// Running best of a metric (Keras EarlyStopping semantics): the basis of patience-style policies.
import type { OperatorFunction } from 'rxjs';
import type { Sample } from '../views.ts';
import { featureOperator, requireNonNegative, requireOneOf, type Stepper } from './internal.ts';

export interface BestSoFarOptions {
  /** 'max': higher is better (accuracy); 'min': lower is better (loss). */
  mode: 'max' | 'min';
  /** A new best must improve on the old one by MORE than this (absolute, >= 0). Default 0. */
  minDelta?: number;
}

export interface BestSoFar {
  step: number;
  value: number;
  best: number;
  bestStep: number;
  /** step − bestStep, in units of the `step` field (not samples); 0 at a new best. */
  stepsSinceBest: number;
}

/**
 * Emits at every finite sample. The first sample is the first best; afterwards a value is a new
 * best only if value − minDelta > best ('max') or value + minDelta < best ('min'), as Keras'
 * EarlyStopping does — so a tie or a gain of exactly minDelta is not an improvement.
 * Non-finite samples are skipped (they neither improve nor emit).
 */
export function bestSoFar(options: BestSoFarOptions): OperatorFunction<Sample, BestSoFar> {
  bestSoFarStepper(options); // validates the options when the operator is created
  return featureOperator(() => bestSoFarStepper(options));
}

/**
 * The state machine behind `bestSoFar`, for the phase machine and policies. `from` starts it
 * with a best already known (a resumed run's carried best).
 */
export function bestSoFarStepper(options: BestSoFarOptions, from?: { value: number; step: number }): Stepper<BestSoFar> {
  const mode = requireOneOf('bestSoFar: mode', options.mode, ['max', 'min']);
  const minDelta = requireNonNegative('bestSoFar: minDelta', options.minDelta ?? 0);
  const improves = mode === 'max' ? (v: number, b: number) => v - minDelta > b : (v: number, b: number) => v + minDelta < b;
  let best = from;
  return ({ step, value }) => {
    if (best === undefined || improves(value, best.value)) best = { value, step };
    return { step, value, best: best.value, bestStep: best.step, stepsSinceBest: step - best.step };
  };
}
