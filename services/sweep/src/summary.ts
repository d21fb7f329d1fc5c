// The end of a sweep: one row per point, and the table printed for it.
import type { SweepPoint } from './grid.ts';

export interface PointResult {
  point: SweepPoint;
  runId: string | null;
  /** ran now, skipped (an earlier finished run of the same config), or failed to run. */
  status: 'ran' | 'skipped' | 'failed' | 'pending';
  memorizedStep: number | null;
  grokStep: number | null;
  finalTrainAcc: number | null;
  finalTestAcc: number | null;
  /** The policy that stopped it, if one did. */
  stopPolicy: string | null;
  /** Steps it ran, and steps its config asked for: a stop saves the difference. */
  lastStep: number | null;
  plannedSteps: number;
  /** The run's training rate (RunFinished.summary.steps_per_second), to put a time on the steps saved. */
  stepsPerSecond?: number | null;
}

const fmt = (v: number | null, digits = 3) => (v === null || !Number.isFinite(v) ? '–' : Number.isInteger(v) ? String(v) : v.toFixed(digits));

/** A text table: the swept keys, then memorized, grokked, delay, final accuracies, stop, status. */
export function summaryTable(results: PointResult[], keys: string[]): string {
  const head = [...keys, 'memorized', 'grokked', 'delay', 'train acc', 'test acc', 'stopped by', 'run'];
  const rows = results.map((r) => [
    ...keys.map((k) => r.point.values[k] ?? ''),
    fmt(r.memorizedStep),
    fmt(r.grokStep),
    r.memorizedStep !== null && r.grokStep !== null ? String(r.grokStep - r.memorizedStep) : '–',
    fmt(r.finalTrainAcc),
    fmt(r.finalTestAcc),
    r.stopPolicy ?? '–',
    r.status === 'ran' ? (r.runId ?? '') : `${r.status}${r.runId ? ` (${r.runId})` : ''}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * What the stops saved: for each stopped point, the planned steps it did not run, and their time
 * at the run's own rate (seconds; runs without a rate count no time).
 */
export function stepsSaved(results: PointResult[]): { stopped: number; steps: number; planned: number; seconds: number } {
  let stopped = 0;
  let steps = 0;
  let planned = 0;
  let seconds = 0;
  for (const r of results) {
    if (r.status !== 'ran') continue;
    planned += r.plannedSteps;
    if (r.stopPolicy !== null && r.lastStep !== null) {
      stopped++;
      const saved = Math.max(0, r.plannedSteps - r.lastStep);
      steps += saved;
      if (r.stepsPerSecond && r.stepsPerSecond > 0) seconds += saved / r.stepsPerSecond;
    }
  }
  return { stopped, steps, planned, seconds };
}
