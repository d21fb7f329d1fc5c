// Shared plumbing for the feature operators (not an operator itself, not re-exported).
//
// Every feature is per run and step-driven: state lives in a closure created once per
// subscription (so one operator instance can be replayed and gives the same results), no
// scheduler or clock is read, and the state is bounded (a fixed-size window or O(1) numbers).
import { Observable, type OperatorFunction } from 'rxjs';
import type { Sample } from '../views.ts';

/**
 * The one non-finite convention shared by all features: a sample whose `step` or `value` is not
 * finite (NaN, ±Infinity) is SKIPPED — it does not touch the state and nothing is emitted for it.
 * Detecting divergence (NaN losses) is the divergence policy's business, not the smoothers'.
 */
export function isFiniteSample(s: Sample): boolean {
  return Number.isFinite(s.step) && Number.isFinite(s.value);
}

/** A feature's state machine: one sample in, at most one output (undefined: nothing to emit). */
export type Stepper<T> = (s: Sample) => T | undefined;

/**
 * A stepper that keeps the non-finite convention: non-finite samples never reach `step`. The
 * operators are built on these, and so are the phase machine and the policies, which feed
 * the same state machines one sample at a time.
 */
export function finiteStepper<T>(step: Stepper<T>): Stepper<T> {
  return (s) => (isFiniteSample(s) ? step(s) : undefined);
}

/**
 * Builds an operator from a per-subscription state machine. `init` runs once per subscription and
 * returns the step function; it returns `undefined` when there is nothing to emit for that sample.
 * Non-finite samples never reach it. Completion and errors pass through; an exception thrown by
 * the step function is delivered as an error (and the source is unsubscribed).
 */
export function featureOperator<T>(init: () => Stepper<T>): OperatorFunction<Sample, T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const next = finiteStepper(init());
      return source.subscribe({
        next: (s) => {
          let out: T | undefined;
          try {
            out = next(s);
          } catch (err) {
            subscriber.error(err);
            return;
          }
          if (out !== undefined) subscriber.next(out);
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}

/** A fixed-capacity FIFO of the last `capacity` samples (oldest first when iterated). */
export class SampleWindow {
  private readonly steps: Float64Array;
  private readonly values: Float64Array;
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.steps = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  push(s: Sample): void {
    const end = (this.start + this.count) % this.capacity;
    this.steps[end] = s.step;
    this.values[end] = s.value;
    if (this.count < this.capacity) this.count++;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** Calls `f(step, value)` for each held sample, oldest first. */
  forEach(f: (step: number, value: number) => void): void {
    for (let i = 0; i < this.count; i++) {
      const j = (this.start + i) % this.capacity;
      f(this.steps[j]!, this.values[j]!);
    }
  }
}

function fail(name: string, rule: string, value: unknown): never {
  throw new Error(`${name} must be ${rule}, got ${String(value)}`);
}

export function requireFinite(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(name, 'a finite number', v);
  return v;
}

export function requirePositive(name: string, v: number): number {
  if (requireFinite(name, v) <= 0) fail(name, '> 0', v);
  return v;
}

export function requireNonNegative(name: string, v: number): number {
  if (requireFinite(name, v) < 0) fail(name, '>= 0', v);
  return v;
}

export function requireInteger(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) fail(name, `an integer >= ${min}`, v);
  return v;
}

export function requireOneOf<T extends string>(name: string, v: T, allowed: readonly T[]): T {
  if (!allowed.includes(v)) fail(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, v);
  return v;
}
