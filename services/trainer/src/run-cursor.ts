// Where a run's numbering stands: the step last trained, the next event seq, and (after a resume
// from a log that ran past the checkpoint) the steps that are trained again without being sent.
import { newEventId } from '@grokstream/schemas';

export class RunCursor {
  step = 0;
  seq = 0;
  /** Steps up to this one are already on the event log (LoopOptions.resume). */
  quietThrough = 0;

  constructor(readonly runId: string) {}

  /** The envelope of the next event: a new id and the next seq. */
  envelope(): { event_id: string; run_id: string; seq: number; ts: number } {
    return { event_id: newEventId(), run_id: this.runId, seq: this.seq++, ts: Date.now() };
  }

  /** The current step is on the log already: train it, send nothing. */
  get quiet(): boolean {
    return this.step <= this.quietThrough;
  }
}
