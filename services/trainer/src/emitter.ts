// The trainer never waits on the network per step: events go into a bounded buffer that a
// background loop ships in batches. When the buffer is full the trainer waits (it slows down
// rather than dropping events) and says so once per episode.
//
// A bus that refuses events (a broker outage) is ridden out: the batch is retried with backoff
// while the trainer keeps training into the buffer. Only when the outage lasts longer than
// `outageLimitMs` does the emitter give up: emit(), check() and flush() then throw
// BusOutageError, and drain() hands the caller every unsent event to spill to disk (run.ts).
import type { AnyEvent } from '@grokstream/schemas';

export type EventSink = (events: AnyEvent[]) => Promise<void>;

/**
 * A sink in two stages: `prepare` does the CPU work of a batch (encoding it), `send` puts it on
 * the wire. The emitter prepares the next batch while the one before it is in flight, so the
 * encoding hides behind the broker's round trip instead of adding to it (one send is still in
 * flight at a time: order and the idempotent producer's guarantees are kept).
 */
export interface StagedSink<P = unknown> {
  prepare(events: AnyEvent[]): P;
  send(prepared: P): Promise<void>;
}

export interface EmitterStats {
  emitted: number;
  shipped: number;
  stalls: number;
  stalledMs: number;
  /** Failed attempts to ship a batch (each one retried). */
  failedSends: number;
  /** Outages ridden out (the bus refused, then accepted again). */
  outages: number;
}

export interface EmitterOptions {
  /** Events buffered before emit() waits for the bus. */
  capacity: number;
  /** How long a bus that refuses every batch is retried before the emitter gives up. */
  outageLimitMs: number;
  /**
   * Most events a send carries (default 2,500, ~400 KB of step metrics: a deep buffer goes out in
   * few requests, each split by the bus under its request budget). Measured with
   * `pnpm bench:foundation`, interleaved on 2026-12-02: the producer and consumer processes
   * reached 91k and 95k events/s with 2,500 against 68k and 70k with the old 500.
   */
  maxBatch?: number;
  /** Backoff between attempts while the bus refuses: doubles from initial up to max. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** How often a continuing outage is reported. */
  reportEveryMs?: number;
  /** Sees every event as it is accepted, in order, exactly once (the --events-file log). */
  onAccept?: (event: AnyEvent) => void;
  log?: (line: string) => void;
  now?: () => number;
}

/** The bus refused events for longer than the outage limit. The unsent events are still held. */
export class BusOutageError extends Error {
  override readonly name = 'BusOutageError';
  constructor(
    readonly outageMs: number,
    readonly lastError: Error,
  ) {
    super(`the bus refused events for ${Math.round(outageMs / 1000)} s (last error: ${lastError.message})`);
  }
}

export class BoundedEmitter {
  readonly stats: EmitterStats = { emitted: 0, shipped: 0, stalls: 0, stalledMs: 0, failedSends: 0, outages: 0 };
  private buffer: AnyEvent[] = [];
  private shipping: Promise<void> | undefined;
  private gaveUp: BusOutageError | undefined;
  private outageSince: number | undefined;
  private spaceWaiters: Array<() => void> = [];
  private shippedWaiters: Array<{ count: number; done: (err?: Error) => void }> = [];
  private readonly o: Required<Omit<EmitterOptions, 'onAccept'>> & Pick<EmitterOptions, 'onAccept'>;
  private readonly sink: StagedSink;
  /** A plain function sink has nothing to prepare: no batch is looked ahead at for it. */
  private readonly staged: boolean;

  constructor(sink: EventSink | StagedSink, options: EmitterOptions) {
    this.staged = typeof sink !== 'function';
    this.sink = typeof sink === 'function' ? { prepare: (events) => events, send: (events) => sink(events as AnyEvent[]) } : sink;
    const { capacity, outageLimitMs } = options;
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`emit buffer must be a positive integer, got ${capacity}`);
    if (!(outageLimitMs >= 0)) throw new Error(`emit outage limit must be ≥ 0 ms, got ${outageLimitMs}`);
    this.o = {
      maxBatch: 2_500,
      retryInitialMs: 200,
      retryMaxMs: 5_000,
      reportEveryMs: 15_000,
      log: (l) => console.error(l),
      now: () => Date.now(),
      ...options,
    };
  }

  /**
   * Queues an event; resolves at once unless the buffer is full. Once the emitter gave up, the
   * event is still queued (so drain() returns it) and then BusOutageError is thrown.
   * `record: false` skips onAccept (events re-sent from a spill file were recorded already).
   */
  async emit(event: AnyEvent, how: { record?: boolean } = {}): Promise<void> {
    if (this.buffer.length >= this.o.capacity && !this.gaveUp) {
      const t0 = this.o.now();
      this.stats.stalls++;
      this.o.log(`emit: buffer full (${this.o.capacity} events): the trainer waits for the bus`);
      while (this.buffer.length >= this.o.capacity && !this.gaveUp) {
        await new Promise<void>((r) => this.spaceWaiters.push(r));
      }
      this.stats.stalledMs += this.o.now() - t0;
    }
    // Accepted even when the emitter gave up: the caller spills it with the rest.
    this.buffer.push(event);
    this.stats.emitted++;
    if (how.record !== false) this.o.onAccept?.(event);
    this.kick();
    this.check();
  }

  /** Throws BusOutageError when the emitter has given up (called at every step boundary). */
  check(): void {
    if (this.gaveUp) throw this.gaveUp;
  }

  /** Resolves when everything emitted so far is shipped; throws BusOutageError if it never will be. */
  async flush(): Promise<void> {
    while (this.buffer.length > 0 || this.shipping) {
      this.check();
      this.kick();
      await this.shipping;
    }
    this.check();
  }

  /**
   * Resolves once the first `count` events emitted are shipped, without holding emit() up (a
   * checkpoint is committed then: checkpointing.ts); rejects with BusOutageError if the emitter
   * gives up first, or drain() takes them back.
   */
  whenShipped(count: number): Promise<void> {
    if (this.stats.shipped >= count) return Promise.resolve();
    if (this.gaveUp) return Promise.reject(this.gaveUp);
    this.kick();
    return new Promise((resolve, reject) => this.shippedWaiters.push({ count, done: (err) => (err ? reject(err) : resolve()) }));
  }

  /** Takes every unsent event, oldest first (after a BusOutageError, to spill them). */
  drain(): AnyEvent[] {
    // After giving up nothing is in flight (the ship loop has returned).
    if (this.shipping && !this.gaveUp) throw new Error('emit: drain() while a batch is in flight');
    const out = this.buffer;
    this.buffer = [];
    this.wakeAll();
    for (const w of this.shippedWaiters.splice(0)) w.done(this.gaveUp ?? new Error('emit: the unsent events were drained'));
    return out;
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** True while the bus refuses events (the trainer goes on into the buffer). */
  get inOutage(): boolean {
    return this.outageSince !== undefined;
  }

  private kick(): void {
    if (this.shipping || this.buffer.length === 0 || this.gaveUp) return;
    this.shipping = this.shipLoop().finally(() => {
      this.shipping = undefined;
      // An event emitted after the loop's last look at the buffer, but before this cleared
      // `shipping`, found it still set and did not start a loop: start one for it now.
      if (this.buffer.length > 0 && !this.gaveUp) this.kick();
    });
  }

  private async shipLoop(): Promise<void> {
    let attempt = 0;
    let reported = 0;
    // The next batch, prepared while the one before it was in flight: the events at the head of
    // the buffer once that one is shipped (the buffer only grows at its tail meanwhile).
    let ahead: { events: AnyEvent[]; prepared: unknown } | undefined;
    while (this.buffer.length > 0) {
      const batch = ahead?.events ?? this.buffer.slice(0, this.o.maxBatch);
      try {
        const prepared = ahead ? ahead.prepared : this.sink.prepare(batch);
        ahead = undefined;
        const sent = this.sink.send(prepared).then(
          () => undefined,
          (err: unknown) => ({ err }),
        );
        if (this.staged) ahead = await this.prepareAhead(batch.length);
        const failed = await sent;
        if (failed) throw failed.err;
      } catch (err) {
        ahead = undefined; // a failure may shift the buffer's head (a partial send): prepare again
        const error = err instanceof Error ? err : new Error(String(err));
        const now = this.o.now();
        this.stats.failedSends++;
        // A send that failed part way (the bus's SendError) says how many leading events were
        // accepted: those are not sent again.
        const delivered = (err as { delivered?: unknown }).delivered;
        if (typeof delivered === 'number' && delivered > 0 && delivered <= batch.length) {
          this.buffer.splice(0, delivered);
          this.stats.shipped += delivered;
          this.wakeAll();
        }
        if (this.outageSince === undefined) {
          this.outageSince = now;
          reported = now;
          this.o.log(
            `emit: the bus refused ${batch.length} event${batch.length === 1 ? '' : 's'} (${error.message}); training goes on into the buffer ` +
              `(${this.buffer.length}/${this.o.capacity} events) and they are retried for up to ${Math.round(this.o.outageLimitMs / 1000)} s`,
          );
        } else if (now - reported >= this.o.reportEveryMs) {
          reported = now;
          this.o.log(`emit: the bus is still unreachable after ${Math.round((now - this.outageSince) / 1000)} s; ${this.buffer.length} events buffered`);
        }
        if (now - this.outageSince >= this.o.outageLimitMs) {
          this.gaveUp = new BusOutageError(now - this.outageSince, error);
          this.wakeAll();
          return;
        }
        const delay = Math.min(this.o.retryMaxMs, this.o.retryInitialMs * 2 ** Math.min(attempt++, 20));
        await new Promise((r) => setTimeout(r, delay));
        continue;
      }
      if (this.outageSince !== undefined) {
        this.stats.outages++;
        this.o.log(`emit: the bus is back after ${Math.round((this.o.now() - this.outageSince) / 1000)} s; sending ${this.buffer.length} buffered events`);
        this.outageSince = undefined;
        attempt = 0;
      }
      this.buffer.splice(0, batch.length);
      this.stats.shipped += batch.length;
      this.wakeAll();
    }
  }

  /**
   * While a send is in flight: once its request is on the wire (after the current macrotask, so
   * the encoding does not delay it), prepares the batch that follows `inFlight` events, if any.
   * A batch that fails to prepare is left for the loop, which prepares it again and reports.
   */
  private async prepareAhead(inFlight: number): Promise<{ events: AnyEvent[]; prepared: unknown } | undefined> {
    await new Promise<void>((r) => setImmediate(r));
    if (this.buffer.length <= inFlight) return undefined;
    const events = this.buffer.slice(inFlight, inFlight + this.o.maxBatch);
    try {
      return { events, prepared: this.sink.prepare(events) };
    } catch {
      return undefined;
    }
  }

  private wakeAll(): void {
    for (const w of this.spaceWaiters.splice(0)) w();
    if (this.gaveUp) for (const w of this.shippedWaiters.splice(0)) w.done(this.gaveUp);
    else {
      const still: typeof this.shippedWaiters = [];
      for (const w of this.shippedWaiters) {
        if (this.stats.shipped >= w.count) w.done();
        else still.push(w);
      }
      this.shippedWaiters = still;
    }
  }
}
