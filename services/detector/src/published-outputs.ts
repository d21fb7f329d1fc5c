// What is already on the phases and control topics, read continuously (a private consumer group
// from the beginning), so the detector never publishes an output twice: not after a restart,
// not after a rebalance, not after another instance held the partition for a while, and not
// after a send that failed but landed anyway.
//
// ready() is the barrier before every publish: it resolves once every message on the topics at
// that moment is known. Knowing is cheap when nothing but this instance's own sends arrived since
// the last catch-up (end offsets = what the tail read + what this instance sent); otherwise it
// waits until the tail has read up to the current ends.
import { randomUUID } from 'node:crypto';
import { DecodeError, type EventCodec } from '@grokstream/schemas';
import type { Batch, Bus, Consumer } from '@grokstream/bus';

const RECHECK_MS = 100;

export class PublishedOutputs {
  private readonly ids = new Set<string>();
  /** topic/partition -> next offset the tail will read */
  private readonly reached = new Map<string, number>();
  /** topic -> messages on it known to this instance (read by the tail, or sent by it since) */
  private readonly accounted = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private consumer: Consumer | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly codec: EventCodec,
    private readonly topics: string[],
    /** PhaseChanged events of other detectors are not ours to suppress. */
    private readonly detector: string,
  ) {}

  async start(): Promise<void> {
    this.consumer = this.bus.consumer({
      groupId: `grokstream-published-${this.detector}-${randomUUID()}`,
      topics: this.topics,
      fromBeginning: true,
      commit: false,
      handleBatch: async (batch) => this.read(batch),
    });
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = undefined;
    for (const w of [...this.waiters]) w();
  }

  has(eventId: string): boolean {
    return this.ids.has(eventId);
  }

  /** This instance sent these and the send was acknowledged. */
  sent(topic: string, eventIds: string[]): void {
    for (const id of eventIds) this.ids.add(id);
    const n = this.accounted.get(topic);
    if (n !== undefined) this.accounted.set(topic, n + eventIds.length);
  }

  /** A send failed: some of it may have landed, so the next ready() reads the topics again. */
  unsure(): void {
    this.accounted.clear();
  }

  /** Resolves when every message on the topics as of now is known to has(). */
  async ready(): Promise<void> {
    for (;;) {
      const ends = await this.ends();
      if (this.topics.every((t) => this.accounted.get(t) === total(ends, t))) return;
      await this.readUpTo(ends);
      for (const t of this.topics) this.accounted.set(t, total(ends, t));
    }
  }

  private async ends(): Promise<Map<string, Array<{ partition: number; offset: string }>>> {
    const all = await Promise.all(this.topics.map((t) => this.bus.endOffsets(t)));
    return new Map(this.topics.map((t, i) => [t, all[i]!]));
  }

  private async readUpTo(ends: Map<string, Array<{ partition: number; offset: string }>>): Promise<void> {
    const done = () => [...ends].every(([t, parts]) => parts.every((p) => (this.reached.get(`${t}/${p.partition}`) ?? 0) >= Number(p.offset)));
    while (!done()) {
      if (!this.consumer) throw new Error('published outputs: not started');
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, RECHECK_MS);
        this.waiters.add(wake);
      });
    }
  }

  private read(batch: Batch): void {
    for (const m of batch.messages) {
      let e;
      try {
        e = this.codec.decode(m.value);
      } catch (err) {
        // Undecodable records are the dead-letter path's business; anything else is a failure
        // and the batch comes again.
        if (err instanceof DecodeError) continue;
        throw err;
      }
      if (e.name === 'PhaseChanged' && e.value.detector === this.detector) this.ids.add(e.value.event_id);
      if (e.name === 'StopRun') this.ids.add(e.value.event_id);
    }
    const last = batch.messages.at(-1);
    if (last) this.reached.set(`${batch.topic}/${batch.partition}`, Number(last.offset) + 1);
    for (const w of [...this.waiters]) w();
  }
}

function total(ends: Map<string, Array<{ partition: number; offset: string }>>, topic: string): number {
  return (ends.get(topic) ?? []).reduce((n, p) => n + Number(p.offset), 0);
}
