// Recorded trainer runs (the detector's evaluation set, services/detector/eval/real) replayed onto
// the bus as new runs: realistic phases and stops without paying for training.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newEventId, type AnyEvent, type StepMetrics } from '@grokstream/schemas';
import { parseStepLines } from '@grokstream/detector';
import { REPO } from './env.ts';

export const RECORDED = ['modular-add-seed0', 'modular-add-seed1', 'modular-sub-seed0'];

/**
 * A recorded run (StepMetrics) under a new run id, with fresh event ids; the whole run ends with a
 * RunFinished, a prefix (`limit` steps) does not.
 */
export function recordedRun(file: string, runId: string, limit = Infinity): AnyEvent[] {
  const steps = parseStepLines(readFileSync(join(REPO, 'services/detector/eval/real', `${file}.jsonl`), 'utf8'), file).slice(0, limit);
  const events: AnyEvent[] = steps.map((s: StepMetrics, i) => ({ name: 'StepMetrics', value: { ...s, run_id: runId, event_id: newEventId(), seq: i + 1 } }));
  const last = steps[steps.length - 1]!;
  if (limit === Infinity) {
    events.push({
      name: 'RunFinished',
      value: { event_id: newEventId(), run_id: runId, seq: steps.length + 1, ts: last.ts + 1, step: last.step, reason: 'completed', command_id: null, error: null, summary: {} },
    });
  }
  return events;
}
