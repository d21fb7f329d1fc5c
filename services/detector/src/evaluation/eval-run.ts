// The runs the detector is evaluated on, in one shape: their events as the detector would
// receive them, their StepMetrics, a ground-truth phase per step and the milestones.
// - synthetic: generated with known phases (trajectories.ts);
// - recorded: real trainer runs and documented timelines (eval/recorded/*.avro, listed in
//   eval/recordings.yaml), and the older recordings of step metrics only (eval/real/*.jsonl);
//   their truth comes from their own accuracies (ground-truth.ts).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readEventLog, type AnyEvent, type Phase, type StepMetrics } from '@grokstream/schemas';
import { parseStepLines } from '../jsonl.ts';
import { groundTruth, type GroundTruth } from './ground-truth.ts';
import { loadRecordingManifest } from './recordings.ts';
import type { LabelledRun } from './trajectories.ts';

export interface EvalRun {
  name: string;
  kind: 'synthetic' | 'recorded';
  categories: string[];
  events: AnyEvent[];
  steps: StepMetrics[];
  labels: Phase[];
  truth: Omit<GroundTruth, 'labels'>;
}

export const EVAL_DIR = join(import.meta.dirname, '..', '..', 'eval');

export function fromSynthetic(run: LabelledRun): EvalRun {
  const { labels: _, ...truth } = groundTruth(run.steps);
  return {
    name: run.name,
    kind: 'synthetic',
    categories: ['synthetic'],
    // each probe right after the StepMetrics of its step, as the trainer emits them
    events: run.steps.flatMap((value): AnyEvent[] => {
      const probe = run.probes?.find((p) => p.step === value.step);
      return probe ? [{ name: 'StepMetrics', value }, { name: 'ProbeSummary', value: probe }] : [{ name: 'StepMetrics', value }];
    }),
    steps: run.steps,
    labels: run.labels!,
    // The construction knows where grokking begins; the milestones are read off the curves.
    truth: { ...truth, onset: run.grokkingOnset, groks: run.grokkingOnset !== null },
  };
}

function fromEvents(name: string, categories: string[], events: AnyEvent[]): EvalRun {
  const steps = events.filter((e) => e.name === 'StepMetrics').map((e) => e.value as StepMetrics);
  const { labels, ...truth } = groundTruth(steps);
  return { name, kind: 'recorded', categories, events, steps, labels, truth };
}

/** Every recording in eval/recordings.yaml (an entry not recorded yet is an error naming the way out), then eval/real/*.jsonl. */
export async function recordedRuns(dir = EVAL_DIR, o: { onMissing?: (name: string) => void } = {}): Promise<EvalRun[]> {
  const out: EvalRun[] = [];
  for (const entry of loadRecordingManifest(join(dir, 'recordings.yaml'))) {
    const file = join(dir, 'recorded', `${entry.name}.avro`);
    if (!existsSync(file) && o.onMissing) {
      o.onMissing(entry.name);
      continue;
    }
    if (!existsSync(file)) throw new Error(`${file} is missing: record it with pnpm --filter @grokstream/detector record-eval ${entry.name}`);
    out.push(fromEvents(entry.name, entry.categories, await readEventLog(file)));
  }
  const real = join(dir, 'real');
  if (existsSync(real)) {
    for (const f of readdirSync(real).filter((f) => f.endsWith('.jsonl')).sort()) {
      const steps = parseStepLines(readFileSync(join(real, f), 'utf8'), f);
      out.push(fromEvents(f.replace(/\.jsonl$/, ''), ['grokking'], steps.map((value) => ({ name: 'StepMetrics', value }))));
    }
  }
  return out;
}
