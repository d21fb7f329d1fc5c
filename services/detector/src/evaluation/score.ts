// Scores the phase detector on labelled runs: per-phase precision and recall over steps, and the
// error of the detected grokking onset.
import { from, firstValueFrom, toArray } from 'rxjs';
import type { Phase } from '@grokstream/schemas';
import { classifyPhases } from '../classify-phases.ts';
import type { PhaseOptions } from '../phase-machine.ts';
import type { LabelledRun } from './trajectories.ts';

export const PHASES: Phase[] = ['WARMUP', 'MEMORIZATION', 'PLATEAU', 'GROKKING', 'CONVERGED', 'DEGRADATION', 'DIVERGED'];

export interface Score {
  perPhase: Record<string, { precision: number | null; recall: number | null; labelled: number; predicted: number }>;
  onsets: Array<{ run: string; truth: number; detected: number | null; error: number | null }>;
  meanAbsOnsetError: number | null;
  missedOnsets: number;
}

export async function scoreRuns(runs: LabelledRun[], options: PhaseOptions): Promise<Score> {
  const tp: Record<string, number> = {};
  const labelled: Record<string, number> = {};
  const predicted: Record<string, number> = {};
  const onsets: Score['onsets'] = [];
  for (const run of runs) {
    const classified = await firstValueFrom(
      from(run.steps.map((value) => ({ name: 'StepMetrics' as const, value }))).pipe(classifyPhases(options, { detector: 'eval', version: '0' }), toArray()),
    );
    classified.forEach((c, i) => {
      predicted[c.view.phase] = (predicted[c.view.phase] ?? 0) + 1;
      const truth = run.labels?.[i];
      if (!truth) return;
      labelled[truth] = (labelled[truth] ?? 0) + 1;
      if (truth === c.view.phase) tp[truth] = (tp[truth] ?? 0) + 1;
    });
    if (run.grokkingOnset !== null) {
      const change = classified.find((c) => c.change?.phase === 'GROKKING')?.change ?? null;
      const detected = change ? change.step : null;
      onsets.push({ run: run.name, truth: run.grokkingOnset, detected, error: detected === null ? null : detected - run.grokkingOnset });
    }
  }
  const labelledRuns = runs.some((r) => r.labels);
  const perPhase: Score['perPhase'] = {};
  for (const p of PHASES) {
    const t = tp[p] ?? 0;
    perPhase[p] = {
      precision: labelledRuns && predicted[p] ? t / predicted[p]! : null,
      recall: labelled[p] ? t / labelled[p]! : null,
      labelled: labelled[p] ?? 0,
      predicted: predicted[p] ?? 0,
    };
  }
  const errors = onsets.filter((o) => o.error !== null).map((o) => Math.abs(o.error!));
  return {
    perPhase,
    onsets,
    meanAbsOnsetError: errors.length ? errors.reduce((a, b) => a + b, 0) / errors.length : null,
    missedOnsets: onsets.filter((o) => o.detected === null).length,
  };
}
