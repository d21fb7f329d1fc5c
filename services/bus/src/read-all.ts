// Reads every message on some topics up to their current end, then stops: a snapshot of a log,
// for consumers that rebuild state (the detector reads back what it already published; a
// consumer reads back the dead letters its group already wrote).
import { randomUUID } from 'node:crypto';
import type { Bus, BusMessage } from './bus.ts';
import { waitUntil } from './wait.ts';

/**
 * Hands every message up to the end offsets at the call to `visit`, partition by partition in
 * offset order, without keeping them: for logs too big to hold (dead letters carry whole messages).
 * Topics that do not exist are empty.
 */
export async function scanAll(
  bus: Bus,
  topics: string[],
  visit: (message: BusMessage) => void,
  timeoutMs = 60_000,
): Promise<number> {
  const ends = new Map<string, number>();
  const present: string[] = [];
  for (const topic of topics) {
    if ((await bus.partitionCount(topic)) === 0) continue;
    present.push(topic);
    for (const e of await bus.endOffsets(topic)) ends.set(`${topic}/${e.partition}`, Number(e.offset));
  }
  const total = [...ends.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const reached = new Map<string, number>();
  let seen = 0;
  let failure: unknown;
  const consumer = bus.consumer({
    groupId: `grokstream-read-${randomUUID()}`,
    topics: present,
    fromBeginning: true,
    commit: false,
    handleBatch: async (batch) => {
      for (const m of batch.messages) {
        const key = `${m.topic}/${m.partition}`;
        const offset = Number(m.offset);
        // A redelivered or replayed message is visited once.
        if (offset < (ends.get(key) ?? 0) && offset >= (reached.get(key) ?? 0)) {
          try {
            visit(m);
          } catch (err) {
            failure ??= err;
          }
          seen++;
        }
        reached.set(key, Math.max(reached.get(key) ?? 0, offset + 1));
      }
    },
  });
  await consumer.start();
  try {
    await waitUntil(
      () => failure !== undefined || [...ends].every(([key, end]) => end === 0 || (reached.get(key) ?? 0) >= end),
      `reading ${present.join(', ')} to the end`,
      timeoutMs,
    );
  } finally {
    await consumer.stop();
  }
  if (failure !== undefined) throw failure;
  return seen;
}

export async function readAll(bus: Bus, topics: string[], timeoutMs = 60_000): Promise<BusMessage[]> {
  const out: BusMessage[] = [];
  await scanAll(bus, topics, (m) => out.push(m), timeoutMs);
  return out.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition || Number(a.offset) - Number(b.offset) : a.topic < b.topic ? -1 : 1));
}
