// The trainer never waits on the network per step: events go into a bounded buffer that a
// background loop ships in batches. When the buffer is full the trainer waits (it slows down
// rather than dropping events) and says so once per episode.
import type { AnyEvent } from '@grokstream/schemas';

export type EventSink = (events: AnyEvent[]) => Promise<void>;

export interface EmitterStats {
  emitted: number;
  shipped: number;
  stalls: number;
  stalledMs: number;
}

export class BoundedEmitter {
  readonly stats: EmitterStats = { emitted: 0, shipped: 0, stalls: 0, stalledMs: 0 };
  private buffer: AnyEvent[] = [];
  private shipping: Promise<void> | undefined;
  private failure: Error | undefined;
  private spaceWaiters: Array<() => void> = [];

  constructor(
    private readonly sink: EventSink,
    private readonly capacity: number,
    private readonly log: (line: string) => void = (l) => console.error(l),
    private readonly maxBatch = 500,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`emit buffer must be a positive integer, got ${capacity}`);
  }

  /** Queues an event; resolves at once unless the buffer is full. Rejects if shipping failed. */
  async emit(event: AnyEvent): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.buffer.length >= this.capacity) {
      const t0 = Date.now();
      this.stats.stalls++;
      this.log(`emit: buffer full (${this.capacity} events): the trainer waits for the bus`);
      while (this.buffer.length >= this.capacity && !this.failure) {
        await new Promise<void>((r) => this.spaceWaiters.push(r));
      }
      this.stats.stalledMs += Date.now() - t0;
      if (this.failure) throw this.failure;
    }
    this.buffer.push(event);
    this.stats.emitted++;
    this.kick();
  }

  /** Resolves when everything emitted so far is shipped. */
  async flush(): Promise<void> {
    while (this.buffer.length > 0 || this.shipping) {
      if (this.failure) throw this.failure;
      this.kick();
      await this.shipping;
    }
    if (this.failure) throw this.failure;
  }

  get pending(): number {
    return this.buffer.length;
  }

  private kick(): void {
    if (this.shipping || this.buffer.length === 0 || this.failure) return;
    this.shipping = this.shipLoop().finally(() => {
      this.shipping = undefined;
    });
  }

  private async shipLoop(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.slice(0, this.maxBatch);
      try {
        await this.sink(batch);
      } catch (err) {
        this.failure = new Error(`emit: the bus refused events: ${(err as Error).message}`);
        this.wakeAll();
        return;
      }
      this.buffer.splice(0, batch.length);
      this.stats.shipped += batch.length;
      this.wakeAll();
    }
  }

  private wakeAll(): void {
    for (const w of this.spaceWaiters.splice(0)) w();
  }
}
