// Building StopRun commands: people (`grokstream stop`), detectors and tests make them alike.
import { randomUUID } from 'node:crypto';
import type { DetectorProgress, Evidence, StopRun } from './events.generated.ts';
import { newEventId } from './ids.ts';

export interface StopRunFields {
  runId: string;
  policy: string;
  reason: string;
  issuedBy: string;
  /** The step whose evidence triggered the stop; -1 when there is none (a person's decision). */
  step?: number;
  evidence?: Evidence;
  /** Idempotency key: the same decision must reuse its id. Default: a fresh UUID. */
  commandId?: string;
  /** The issuer's own sequence number for this run. */
  seq?: number;
}

export function stopRunCommand(f: StopRunFields): StopRun {
  const step = f.step ?? -1;
  return {
    event_id: newEventId(),
    run_id: f.runId,
    seq: f.seq ?? 0,
    ts: Date.now(),
    command_id: f.commandId ?? randomUUID(),
    policy: f.policy,
    reason: f.reason,
    step,
    evidence: f.evidence ?? { window_start: step, window_end: step, values: {}, thresholds: {} },
    issued_by: f.issuedBy,
  };
}

/**
 * A detector's progress on a run (flow control for a trainer's stop gate, run.stop_gate): every
 * event of the run through `step` is judged, and what it called for is published before this.
 */
export function detectorProgress(f: { runId: string; step: number; issuedBy: string; seq?: number }): DetectorProgress {
  return { event_id: newEventId(), run_id: f.runId, seq: f.seq ?? 0, ts: Date.now(), step: f.step, issued_by: f.issuedBy };
}
