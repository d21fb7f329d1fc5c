// Scores a detector configuration on labelled runs, through the pipeline the service and
// `grokstream replay` use (replayEvents: phases and policies together):
// - per-phase precision, recall and F1 over steps, the predicted phase of a step being the one
//   the PhaseChanged events give it (as the report's bands show them: a change is dated at the
//   step its phase began, which may be before it was announced);
// - the grokking onset (first GROKKING change) and the grok step (first CONVERGED change after
//   memorization) against the truth, in steps and in % of the run's length;
// - the stops: premature ones (a run stopped before it grokked, when it did grok), hopeless runs
//   (memorized, never generalized in the whole recording) stopped within half their length, and
//   the steps the stops saved.
import type { AnyEvent, Phase, PhaseChanged, StopRun } from '@grokstream/schemas';
import type { RunDetectorOptions } from '../detect-run.ts';
import { replayEvents } from '../replay.ts';
import type { EvalRun } from './eval-run.ts';

export const PHASES: Phase[] = ['WARMUP', 'MEMORIZATION', 'PLATEAU', 'GROKKING', 'CONVERGED', 'DEGRADATION', 'DIVERGED'];

export interface PhaseScore {
  precision: number | null;
  recall: number | null;
  f1: number | null;
  labelled: number;
  predicted: number;
}

export interface RunScore {
  run: string;
  kind: EvalRun['kind'];
  categories: string[];
  length: number;
  memorizedAt: number | null;
  /** Grokking onset: truth, detected (first GROKKING change), error in steps and in % of length. */
  onset: { truth: number; detected: number | null; error: number | null; errorPct: number | null } | null;
  /** Grok step: truth (test ≥ 0.95), detected (first CONVERGED change), error. */
  grokStep: { truth: number; detected: number | null; error: number | null; errorPct: number | null } | null;
  stop: { step: number; policy: string; reason: string } | null;
  /** The run grokked, and was stopped before it did. */
  premature: boolean;
  /** Memorized and never got halfway to generalizing within the recording (nor diverged): ground-truth.ts. */
  hopeless: boolean;
  /** Hopeless and stopped by half its length. */
  stoppedInHalf: boolean;
  stepsSaved: number;
}

export interface Score {
  perPhase: Record<string, PhaseScore>;
  runs: RunScore[];
  meanAbsOnsetErrorPct: number | null;
  maxAbsOnsetErrorPct: number | null;
  maxAbsGrokStepErrorPct: number | null;
  missedOnsets: number;
  missedGrokSteps: number;
  stops: number;
  premature: number;
  /** Stops that were not premature, of all stops (null: none). */
  stopPrecision: number | null;
  hopeless: number;
  /** Hopeless runs stopped within half their length, of all hopeless runs (null: none). */
  stopRecall: number | null;
  stepsSaved: number;
  totalSteps: number;
}

/** The phase of every step as the PhaseChanged events paint it (later changes overrule earlier ones from their step on). */
export function paintPhases(steps: number[], changes: PhaseChanged[]): Phase[] {
  const segments: Array<{ step: number; phase: Phase }> = [];
  for (const c of changes) {
    while (segments.length > 0 && segments.at(-1)!.step >= c.step) segments.pop();
    segments.push({ step: c.step, phase: c.phase });
  }
  let j = -1;
  return steps.map((s) => {
    while (j + 1 < segments.length && segments[j + 1]!.step <= s) j++;
    return j >= 0 ? segments[j]!.phase : 'WARMUP';
  });
}

const pctOf = (err: number | null, length: number) => (err === null ? null : (100 * err) / length);

export async function scoreRun(run: EvalRun, options: RunDetectorOptions): Promise<{ score: RunScore; predicted: Phase[] }> {
  const outputs = await replayEvents(run.events as AnyEvent[], options);
  const changes = outputs.filter((o) => o.name === 'PhaseChanged').map((o) => o.value as PhaseChanged);
  const stopRun = (outputs.find((o) => o.name === 'StopRun')?.value as StopRun | undefined) ?? null;
  const stepNumbers = run.steps.map((s) => s.step);
  const predicted = paintPhases(stepNumbers, changes);
  const first = stepNumbers[0] ?? 0;
  const last = stepNumbers.at(-1) ?? 0;
  const length = Math.max(1, last - first + 1);
  const t = run.truth;
  const onsetDetected = changes.find((c) => c.phase === 'GROKKING')?.step ?? null;
  const grokDetected = changes.find((c) => c.phase === 'CONVERGED')?.step ?? null;
  const err = (d: number | null, truth: number) => (d === null ? null : d - truth);
  const stop = stopRun ? { step: Number(stopRun.step), policy: stopRun.policy, reason: stopRun.reason } : null;
  const hopeless = t.hopeless;
  const score: RunScore = {
    run: run.name,
    kind: run.kind,
    categories: run.categories,
    length,
    memorizedAt: t.memorizedAt,
    onset: t.groks && t.onset !== null ? { truth: t.onset, detected: onsetDetected, error: err(onsetDetected, t.onset), errorPct: pctOf(err(onsetDetected, t.onset), length) } : null,
    grokStep:
      t.grokkedAt !== null && t.memorizedAt !== null
        ? { truth: t.grokkedAt, detected: grokDetected, error: err(grokDetected, t.grokkedAt), errorPct: pctOf(err(grokDetected, t.grokkedAt), length) }
        : null,
    stop,
    premature: stop !== null && t.grokkedAt !== null && stop.step < t.grokkedAt,
    hopeless,
    stoppedInHalf: hopeless && stop !== null && stop.step - first < length / 2,
    stepsSaved: stop ? last - stop.step : 0,
  };
  return { score, predicted };
}

function f1(p: number | null, r: number | null): number | null {
  if (p === null || r === null) return null;
  return p + r === 0 ? 0 : (2 * p * r) / (p + r);
}

export async function scoreRuns(runs: EvalRun[], options: RunDetectorOptions): Promise<Score> {
  const tp: Record<string, number> = {};
  const labelled: Record<string, number> = {};
  const predictedCount: Record<string, number> = {};
  const scores: RunScore[] = [];
  let totalSteps = 0;
  for (const run of runs) {
    const { score, predicted } = await scoreRun(run, options);
    scores.push(score);
    totalSteps += score.length;
    predicted.forEach((p, i) => {
      const truth = run.labels[i];
      if (!truth) return;
      predictedCount[p] = (predictedCount[p] ?? 0) + 1;
      labelled[truth] = (labelled[truth] ?? 0) + 1;
      if (truth === p) tp[truth] = (tp[truth] ?? 0) + 1;
    });
  }
  const perPhase: Score['perPhase'] = {};
  for (const p of PHASES) {
    const t = tp[p] ?? 0;
    const precision = predictedCount[p] ? t / predictedCount[p]! : null;
    const recall = labelled[p] ? t / labelled[p]! : null;
    perPhase[p] = { precision, recall, f1: f1(precision, recall), labelled: labelled[p] ?? 0, predicted: predictedCount[p] ?? 0 };
  }
  const onsetErrs = scores.flatMap((s) => (s.onset?.errorPct == null ? [] : [Math.abs(s.onset.errorPct)]));
  const grokErrs = scores.flatMap((s) => (s.grokStep?.errorPct == null ? [] : [Math.abs(s.grokStep.errorPct)]));
  const stopped = scores.filter((s) => s.stop !== null);
  const hopeless = scores.filter((s) => s.hopeless);
  const premature = stopped.filter((s) => s.premature).length;
  return {
    perPhase,
    runs: scores,
    meanAbsOnsetErrorPct: onsetErrs.length ? onsetErrs.reduce((a, b) => a + b, 0) / onsetErrs.length : null,
    maxAbsOnsetErrorPct: onsetErrs.length ? Math.max(...onsetErrs) : null,
    maxAbsGrokStepErrorPct: grokErrs.length ? Math.max(...grokErrs) : null,
    missedOnsets: scores.filter((s) => s.onset !== null && s.onset.detected === null).length,
    missedGrokSteps: scores.filter((s) => s.grokStep !== null && s.grokStep.detected === null).length,
    stops: stopped.length,
    premature,
    stopPrecision: stopped.length ? (stopped.length - premature) / stopped.length : null,
    hopeless: hopeless.length,
    stopRecall: hopeless.length ? hopeless.filter((s) => s.stoppedInHalf).length / hopeless.length : null,
    stepsSaved: scores.reduce((a, s) => a + s.stepsSaved, 0),
    totalSteps,
  };
}
