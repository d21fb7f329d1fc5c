// Reads every message on some topics up to their current end, then stops: a snapshot of a log,
// for consumers that rebuild state (the detector reads back what it already published).
import { randomUUID } from 'node:crypto';
import type { Bus, BusMessage } from './bus.ts';
import { waitUntil } from './wait.ts';

export async function readAll(bus: Bus, topics: string[], timeoutMs = 60_000): Promise<BusMessage[]> {
  const ends = new Map<string, number>();
  for (const topic of topics) for (const e of await bus.endOffsets(topic)) ends.set(`${topic}/${e.partition}`, Number(e.offset));
  const total = [...ends.values()].reduce((a, b) => a + b, 0);
  const out: BusMessage[] = [];
  if (total === 0) return out;
  const reached = new Map<string, number>();
  const consumer = bus.consumer({
    groupId: `grokstream-read-${randomUUID()}`,
    topics,
    fromBeginning: true,
    commit: false,
    handleBatch: async (batch) => {
      for (const m of batch.messages) {
        const key = `${m.topic}/${m.partition}`;
        if (Number(m.offset) < (ends.get(key) ?? 0)) out.push(m);
        reached.set(key, Number(m.offset) + 1);
      }
    },
  });
  await consumer.start();
  try {
    await waitUntil(
      () => [...ends].every(([key, end]) => end === 0 || (reached.get(key) ?? 0) >= end),
      `reading ${topics.join(', ')} to the end`,
      timeoutMs,
    );
  } finally {
    await consumer.stop();
  }
  return out.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition || Number(a.offset) - Number(b.offset) : a.topic < b.topic ? -1 : 1));
}
