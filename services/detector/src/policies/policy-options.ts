// Construction-time validation of policy options: a bad option throws at once with an Error
// naming the policy and the option, never later inside the stream.
import { STEP_METRIC_FIELDS } from '@grokstream/schemas';

export function requireFinite(policy: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${policy}: option '${option}' must be a finite number, got ${String(value)}`);
  }
  return value;
}

export function requireNonNegative(policy: string, option: string, value: unknown): number {
  const v = requireFinite(policy, option, value);
  if (v < 0) throw new Error(`${policy}: option '${option}' must be >= 0, got ${v}`);
  return v;
}

export function requirePositive(policy: string, option: string, value: unknown): number {
  const v = requireFinite(policy, option, value);
  if (v <= 0) throw new Error(`${policy}: option '${option}' must be > 0, got ${v}`);
  return v;
}

export function requirePositiveInteger(policy: string, option: string, value: unknown): number {
  const v = requirePositive(policy, option, value);
  if (!Number.isInteger(v)) throw new Error(`${policy}: option '${option}' must be an integer, got ${v}`);
  return v;
}

export function requireOneOf<T extends string>(policy: string, option: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new Error(`${policy}: option '${option}' must be one of ${allowed.join(', ')}, got ${String(value)}`);
  }
  return value as T;
}

/** Numeric StepMetrics fields a policy may monitor (bookkeeping fields seq/ts/step excluded). */
export const METRIC_FIELDS = STEP_METRIC_FIELDS;

export type MetricField = (typeof METRIC_FIELDS)[number];

/** A finite number, or null for absent, null or non-finite values. */
export function finiteOrNull(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
