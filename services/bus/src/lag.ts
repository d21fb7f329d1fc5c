// How far a consumer is behind: messages on the topics past the offsets it has processed. The
// embedded pipeline waits for its detector and ingest to reach zero before it reports a run.
import type { Bus } from './bus.ts';

/** Sum over every partition of `topics` of (end offset − the next offset `position` gives; 0 when unread). */
export async function consumerLag(bus: Bus, topics: string[], position: (topic: string, partition: number) => number | undefined): Promise<number> {
  let lag = 0;
  for (const topic of topics) {
    if ((await bus.partitionCount(topic)) === 0) continue;
    for (const { partition, offset } of await bus.endOffsets(topic)) lag += Math.max(0, Number(offset) - (position(topic, partition) ?? 0));
  }
  return lag;
}
