// Candidate precursors of grokking, and when one "moves" (scripts/precursor-study.ts): at the
// first step, at least one trend window after memorization M, where its trend fit
// (features/trend.ts, over max(50, M/2) steps) changes it by at least THRESHOLD of its level per
// memorization time in the expected direction, and by more than Z standard errors.
import type { ProbeSummary, StepMetrics } from '@grokstream/schemas';
import { finiteStepper } from '../features/internal.ts';
import { trendStepper } from '../features/trend.ts';
import type { EvalRun } from './eval-run.ts';

export const THRESHOLD = 0.02;
export const Z = 3;

export interface Precursor {
  name: string;
  /** +1: rises before grokking; −1: falls. */
  direction: 1 | -1;
  series: (run: EvalRun) => Array<[number, number]>;
}

const metric = (f: (m: StepMetrics) => number | null) => (run: EvalRun) => run.steps.flatMap((m): Array<[number, number]> => { const v = f(m); return v === null || !Number.isFinite(v) ? [] : [[m.step, v]]; });
const probe = (f: (p: ProbeSummary) => number | null | undefined) => (run: EvalRun) =>
  run.events.flatMap((e): Array<[number, number]> => {
    if (e.name !== 'ProbeSummary') return [];
    const v = f(e.value as ProbeSummary);
    return v === null || v === undefined || !Number.isFinite(v) ? [] : [[(e.value as ProbeSummary).step, v]];
  });

export const PRECURSORS: Precursor[] = [
  { name: 'weight_norm falls', direction: -1, series: metric((m) => m.weight_norm) },
  { name: 'last_layer_norm falls', direction: -1, series: metric((m) => m.last_layer_norm) },
  { name: 'softmax_collapse_frac falls', direction: -1, series: metric((m) => m.softmax_collapse_frac) },
  { name: 'GOP effective rank falls', direction: -1, series: probe((p) => p.gop.find((g) => g.scope === 'model')?.effective_rank) },
  { name: 'Fourier sparsity rises', direction: 1, series: probe((p) => p.extra['fourier_sparsity']) },
  { name: 'Fourier key frequencies fall', direction: -1, series: probe((p) => p.extra['fourier_key_freqs']) },
];

/** The first step at which the precursor moves (see the header), or null. */
export function moveStep(points: Array<[number, number]>, memorizedAt: number, direction: 1 | -1, until = Infinity): number | null {
  const window = Math.max(50, Math.round(memorizedAt / 2));
  const after = points.filter(([s]) => s >= memorizedAt && s <= until);
  if (after.length < 3) return null;
  const spacing = (after.at(-1)![0] - after[0]![0]) / Math.max(1, after.length - 1);
  const trend = finiteStepper(trendStepper(Math.max(3, Math.round(window / Math.max(1, spacing)))));
  for (const [step, value] of after) {
    const t = trend({ step, value });
    if (!t || step < memorizedAt + window) continue;
    const level = Math.abs(t.meanValue);
    const perMemorization = (direction * t.slope * memorizedAt) / Math.max(level, 1e-12);
    if (perMemorization >= THRESHOLD && direction * t.slope - Z * t.stderr > 0) return step;
  }
  return null;
}


/**
 * The precursor's change per memorization time at step `now`, in its grokking direction, as the
 * hopeless-run stop reads it: the trend over the last max(50, M, 5 sample intervals) steps since M,
 * slope × M / |level|. Null with fewer than 3 samples.
 */
export function changePerMemorization(points: Array<[number, number]>, memorizedAt: number, direction: 1 | -1, now: number): number | null {
  const after = points.filter(([s]) => s >= memorizedAt && s <= now);
  if (after.length < 3) return null;
  const spacing = after.length > 1 ? after.at(-1)![0] - after.at(-2)![0] : 1;
  const window = Math.max(50, memorizedAt, 5 * spacing);
  const inWindow = after.filter(([s]) => s >= now - window);
  if (inWindow.length < 3) return null;
  const trend = finiteStepper(trendStepper(inWindow.length));
  let t;
  for (const [step, value] of inWindow) t = trend({ step, value }) ?? t;
  if (!t || !(Math.abs(t.meanValue) > 0)) return null;
  return (direction * t.slope * memorizedAt) / Math.abs(t.meanValue);
}

/**
 * Whether the test-accuracy pace alone (no precursor) would call the run hopeless at `now`, as
 * the hopeless-run stop judges it: slope + z·stderr over the last max(50, M) steps, projected to
 * `target`, beyond M + factor·M.
 */
export function paceSaysHopeless(run: EvalRun, now: number, o: { target: number; factor: number; z: number }): boolean {
  const M = run.truth.memorizedAt!;
  const window = Math.max(50, M);
  const trend = finiteStepper(trendStepper(Math.max(3, window)));
  let t;
  for (const m of run.steps) if (m.step >= M && m.step <= now && m.step > now - window && m.test_acc !== null) t = trend({ step: m.step, value: m.test_acc }) ?? t;
  if (!t) return false;
  const level = t.meanValue + t.slope * (now - t.meanStep);
  const pace = t.slope + o.z * t.stderr;
  return pace <= 0 || now + (o.target - level) / pace > M + o.factor * M;
}
