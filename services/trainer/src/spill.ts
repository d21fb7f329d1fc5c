// Spill files: the events a trainer could not send before its outage limit (emitter.ts), kept
// beside the run's checkpoints as Avro object container files (the --events-file format), so
// nothing is lost. `grokstream run --resume RUN_ID` and `grokstream resend` send them, oldest
// first, and delete them only once the bus has accepted every event in them.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EventLogWriter, readEventLog, type AnyEvent } from '@grokstream/schemas';

const SPILL = /^spill-\d{8}T\d{9}Z-\d+\.avro$/;

/** Writes the events to <dir>/<runId>/spill-<time>-<n>.avro and returns the path. */
export async function writeSpill(dir: string, runId: string, events: AnyEvent[]): Promise<string> {
  const runDir = join(dir, runId);
  mkdirSync(runDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  const path = join(runDir, `spill-${stamp}-${events.length}.avro`);
  const writer = new EventLogWriter(path);
  writer.append(events);
  await writer.close();
  return path;
}

/** The run's spill files, oldest first. */
export function findSpills(dir: string, runId: string): string[] {
  const runDir = join(dir, runId);
  if (!existsSync(runDir)) return [];
  return readdirSync(runDir)
    .filter((f) => SPILL.test(f))
    .sort()
    .map((f) => join(runDir, f));
}

/** Every event in the files, in file order then event order; a damaged file is an error naming it. */
export async function readSpills(paths: string[]): Promise<AnyEvent[]> {
  const out: AnyEvent[] = [];
  for (const p of paths) out.push(...(await readEventLog(p)));
  return out;
}

export function removeSpills(paths: string[]): void {
  for (const p of paths) rmSync(p, { force: true });
}
