// What the events topic already holds of one run: did it start, did it finish, and the last seq
// and step on the log. `grokstream stop` checks a run exists with it; a trainer resumed after a
// crash continues from the log's last seq and does not send again the steps the log has.
import { TOPICS, type EventCodec } from '@grokstream/schemas';
import type { Bus } from './bus.ts';
import { scanAll } from './read-all.ts';

export interface RunTail {
  started: boolean;
  /** The last RunFinished, unless a RunStarted (a resume) came after it. */
  finished?: { reason: string; step: number };
  /** Highest seq and step of the run's events on the log; -1 when there are none. */
  lastSeq: number;
  lastStep: number;
  events: number;
}

export async function readRunTail(bus: Bus, codec: EventCodec, runId: string, timeoutMs = 120_000, topic = TOPICS.events): Promise<RunTail> {
  const tail: RunTail = { started: false, lastSeq: -1, lastStep: -1, events: 0 };
  await scanAll(
    bus,
    [topic],
    (m) => {
      if (m.key?.toString('utf8') !== runId) return;
      let e;
      try {
        e = codec.decode(m.value);
      } catch {
        return; // undecodable: the dead-letter path's business
      }
      if (e.value.run_id !== runId) return;
      tail.events++;
      tail.lastSeq = Math.max(tail.lastSeq, e.value.seq);
      if ('step' in e.value && typeof e.value.step === 'number') tail.lastStep = Math.max(tail.lastStep, e.value.step);
      if (e.name === 'RunStarted') {
        tail.started = true;
        delete tail.finished;
      }
      if (e.name === 'RunFinished') tail.finished = { reason: e.value.reason, step: e.value.step };
    },
    timeoutMs,
  );
  return tail;
}
