// A sweep point's run on a worker: its run id is the same every time the point is taken (so a
// point taken again resumes its run from the last checkpoint), and a marker in its checkpoint
// directory says it finished (so a point delivered again after its run finished, but before
// the worker committed it, is not trained twice).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `<sweep>-p<index>`, and a suffix for a run started again on purpose (--rerun). */
export function pointRunId(sweepId: string, index: number, attempt?: string): string {
  return `${sweepId}-p${index}${attempt ? `-${attempt}` : ''}`;
}

const MARKER = 'finished.json';

export interface FinishedMarker {
  reason: string;
  step: number;
  worker: string;
  at: string;
}

export function readFinished(checkpointDir: string, runId: string): FinishedMarker | null {
  const file = join(checkpointDir, runId, MARKER);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as FinishedMarker;
  } catch {
    return null;
  }
}

export function writeFinished(checkpointDir: string, runId: string, m: FinishedMarker): void {
  mkdirSync(join(checkpointDir, runId), { recursive: true });
  writeFileSync(join(checkpointDir, runId, MARKER), `${JSON.stringify(m)}\n`);
}
