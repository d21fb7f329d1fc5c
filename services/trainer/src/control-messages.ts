// What the trainer's command listener and its worker (control.ts, control-worker.ts) say to each
// other, and the one rule both apply to the command stream.
import type { AnyEvent, DetectorProgress, StopRun } from '@grokstream/schemas';

/** worker -> trainer */
export type ControlMessage =
  | { kind: 'ready' }
  | { kind: 'failed'; message: string }
  | { kind: 'stop'; command: StopRun; receivedAtStep: number }
  | { kind: 'log'; line: string }
  | { kind: 'closed' };

/** trainer -> worker */
export type ControlRequest = { kind: 'close' };

/** The first StopRun for this run among `events` that was not obeyed before (a resumed run's). */
export function acceptStop(events: ReadonlyArray<Pick<AnyEvent, 'name' | 'value'>>, runId: string, obeyed: ReadonlySet<string>): StopRun | undefined {
  for (const e of events) {
    if (e.name !== 'StopRun') continue;
    const command = e.value as StopRun;
    if (command.run_id === runId && !obeyed.has(command.command_id)) return command;
  }
  return undefined;
}

/** The last step a detector has judged for this run among `events` (DetectorProgress), if any. */
export function judgedThrough(events: ReadonlyArray<Pick<AnyEvent, 'name' | 'value'>>, runId: string): number | undefined {
  let through: number | undefined;
  for (const e of events) {
    if (e.name !== 'DetectorProgress') continue;
    const p = e.value as DetectorProgress;
    if (p.run_id === runId && (through === undefined || p.step > through)) through = p.step;
  }
  return through;
}
