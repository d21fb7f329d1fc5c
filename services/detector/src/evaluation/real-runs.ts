// Real trainer runs (eval/real/*.jsonl), labelled with their grokking onset: the first step after
// memorization at which test accuracy passes halfway from its plateau level to its final level.
// A labeller deliberately unlike the detector's own rule (a rise over a window).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { MEMORIZED_TRAIN_ACC } from '@grokstream/schemas';
import { parseStepLines } from '../jsonl.ts';
import type { LabelledRun } from './trajectories.ts';

export const REAL_RUNS_DIR = join(import.meta.dirname, '..', '..', 'eval', 'real');

export function labelOnset(steps: LabelledRun['steps']): number | null {
  const memorized = steps.find((s) => s.train_acc !== null && s.train_acc >= MEMORIZED_TRAIN_ACC);
  if (!memorized) return null;
  const after = steps.filter((s) => s.step >= memorized.step && s.test_acc !== null);
  if (after.length < 120) return null;
  const sorted = after.slice(0, 100).map((s) => s.test_acc!).sort((a, b) => a - b);
  const plateau = sorted[50]!;
  const final = after.at(-1)!.test_acc!;
  if (final - plateau < 0.3) return null; // it did not grok
  const half = plateau + (final - plateau) / 2;
  return after.find((s) => s.test_acc! >= half)?.step ?? null;
}

export function realRuns(dir = REAL_RUNS_DIR): LabelledRun[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .map((f) => {
      const steps = parseStepLines(readFileSync(join(dir, f), 'utf8'), f);
      return { name: f.replace(/\.jsonl$/, ''), kind: 'real' as const, steps, grokkingOnset: labelOnset(steps) };
    });
}
