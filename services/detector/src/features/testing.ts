// Test helpers for the feature specs (not re-exported).
import { from, type OperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import type { Sample } from '../views.ts';
import { Rng } from '../evaluation/rng.ts';

/** Rounds every number inside plain objects/arrays to 1e-9 (and −0 to 0); leaves others alone. */
export function roundDeep(x: unknown): unknown {
  if (typeof x === 'number') return Number.isFinite(x) ? Math.round(x * 1e9) / 1e9 + 0 : x;
  if (Array.isArray(x)) return x.map(roundDeep);
  if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, roundDeep(v)]));
  }
  return x;
}

/** A TestScheduler that compares numbers to 1e-9. */
export const newScheduler = () => new TestScheduler((a, e) => expect(roundDeep(a)).toEqual(roundDeep(e)));

/** Exact comparison, as the brief's default. */
export const exactScheduler = () => new TestScheduler((a, e) => expect(a).toEqual(e));

export const s = (step: number, value: number): Sample => ({ step, value });

/** Standard normal noise from a fixed-seed mulberry32 (Box–Muller). */
export function gaussian(seed: number): () => number {
  const rng = new Rng(seed);
  return () => {
    const u = Math.max(rng.next(), 1e-12);
    const v = rng.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/** Synchronously collects what an operator emits for an array of samples. */
export function collect<T>(samples: Sample[], op: OperatorFunction<Sample, T>): T[] {
  const out: T[] = [];
  let done = false;
  from(samples)
    .pipe(op)
    .subscribe({ next: (v) => out.push(v), complete: () => (done = true) });
  if (!done) throw new Error('did not complete synchronously');
  return out;
}
