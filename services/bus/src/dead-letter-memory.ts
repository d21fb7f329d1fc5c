// Which source messages a consumer group has already dead-lettered, so a batch delivered again
// (a failed handler, a restart of a consumer that reads from the beginning) writes no second letter.
import { createHash } from 'node:crypto';

/**
 * The letter's event_id, the same every time a group gives up on the same message: stores that
 * dedupe by event_id keep one letter even when one was written twice (the memory below forgot it).
 * UUID-shaped (version 5 bits, RFC 4122 variant) so it fits wherever an event id goes.
 */
export function deadLetterId(group: string, topic: string, partition: number, offset: string | number): string {
  const h = createHash('sha256').update(`grokstream-dead-letter\0${group}\0${topic}\0${partition}\0${offset}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** Default number of source offsets remembered: about 10 MB. */
export const DEFAULT_DEAD_LETTER_MEMORY = 100_000;

/**
 * A bounded set of (topic, partition, offset). Past `limit` entries the oldest offsets of the
 * partition holding the most are forgotten first: a committing group never sees them again, and
 * a group that re-reads from the beginning re-learns them from the dead-letter topic at start.
 */
export class DeadLetterMemory {
  private readonly partitions = new Map<string, Set<number>>();
  private count = 0;

  constructor(readonly limit = DEFAULT_DEAD_LETTER_MEMORY) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`deadLetterMemory must be a positive integer, got ${limit}`);
  }

  get size(): number {
    return this.count;
  }

  has(topic: string, partition: number, offset: string | number): boolean {
    return this.partitions.get(`${topic}/${partition}`)?.has(Number(offset)) ?? false;
  }

  add(topic: string, partition: number, offset: string | number): void {
    const key = `${topic}/${partition}`;
    let set = this.partitions.get(key);
    if (!set) {
      set = new Set();
      this.partitions.set(key, set);
    }
    const n = Number(offset);
    if (set.has(n)) return;
    set.add(n);
    this.count++;
    while (this.count > this.limit) this.evictOne();
  }

  private evictOne(): void {
    let largest: Set<number> | undefined;
    for (const set of this.partitions.values()) if (!largest || set.size > largest.size) largest = set;
    if (!largest || largest.size === 0) return;
    // Offsets arrive in order per partition, so the first inserted is (nearly always) the lowest.
    const oldest = largest.values().next().value as number;
    largest.delete(oldest);
    this.count--;
  }
}
