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

