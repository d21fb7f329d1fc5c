// Test-only builders of RunView fixtures and marble helpers for the policy specs.
import { exampleProbeSummary, exampleStepMetrics, type Phase, type ProbeSummary, type StepMetrics } from '@grokstream/schemas';
import type { RunView } from '../views.ts';

export const RUN_ID = 'run-under-test';

export interface ViewFields {
  metrics?: Partial<Omit<StepMetrics, 'run_id' | 'step'>>;
  probe?: ProbeSummary | null;
  phase?: Phase;
  memorizedAt?: number | null;
  generalization?: number | null;
  runId?: string;
}

/** A RunView at `step`; only what a case cares about needs spelling out. */
export function runView(step: number, f: ViewFields = {}): RunView {
  const runId = f.runId ?? RUN_ID;
  return {
    runId,
    step,
    metrics: exampleStepMetrics({ ...f.metrics, run_id: runId, step }),
    probe: f.probe ?? null,
    phase: f.phase ?? 'MEMORIZATION',
    memorizedAt: f.memorizedAt ?? null,
    generalization: f.generalization === undefined ? null : f.generalization,
  };
}

/** A ProbeSummary at `step` whose 'model'-scope GOP has the given effective rank. */
export function gopProbe(step: number, effectiveRank: number, runId = RUN_ID): ProbeSummary {
  const gop = (scope: string, effective_rank: number) => ({ scope, trace: 1, frobenius: 1, spectral: 1, top_eigs: [1], effective_rank, numerical_rank: 1, condition_number: 1 });
  return exampleProbeSummary({ run_id: runId, step, event_id: `probe-${step}`, gop: [gop('layer0', 999), gop('model', effectiveRank)] });
}

const FRAME_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** One view per frame: a cold-observable marble ending with completion, and its values. */
export function frames(views: readonly RunView[]): { marbles: string; values: Record<string, RunView> } {
  if (views.length > FRAME_CHARS.length) throw new Error(`frames: at most ${FRAME_CHARS.length} views`);
  const values: Record<string, RunView> = {};
  let marbles = '';
  views.forEach((v, i) => {
    const c = FRAME_CHARS.charAt(i);
    values[c] = v;
    marbles += c;
  });
  return { marbles: `${marbles}|`, values };
}

/** The expected marble of a policy that decides on the view at `index` (and completes). */
export function decidesAt(index: number): string {
  return `${'-'.repeat(index)}(x|)`;
}

/** The expected marble of a policy that never decides over `count` views. */
export function silentOver(count: number): string {
  return `${'-'.repeat(count)}|`;
}
