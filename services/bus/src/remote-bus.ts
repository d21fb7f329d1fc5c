// A bus in another process: RemoteBus forwards every call over a BusChannel to a RemoteBusHost,
// which makes it on a real bus there (the embedded sweep's in-process bus, in the parent). So a
// trainer forked by `grokstream sweep --workers N` sends its events to, and takes StopRun
// commands from, the one bus the sweep's detector and store read; the semantics are the host
// bus's own, and the bus contract (bus.contract.ts) runs against this pair as against the others.
//
// Calls are requests answered by id. Handlers stay in the client's process: the host's consumer
// hands each batch over and waits for the client's verdict, forwards the batch's lease (abort),
// and awaits the client's onAssignment before its next batch. Functions cannot cross, so the
// client works out retryDelayMs itself (it counts a partition's failures in a row) and sends the
// delay with the failure.
import type { Batch, Bus, BusMessage, Consumer, ConsumerOptions, OutgoingMessage, Producer, ProducerOptions, TopicSpec } from './bus.ts';
import { asBuffer, type BusChannel } from './bus-channel.ts';
import { RecordTooLargeError, SendError } from './request-size.ts';

// --- the wire ---

interface WireError {
  name: string;
  message: string;
  topic?: string;
  index?: number;
  bytes?: number;
  limit?: number;
  delivered?: number;
}

type WireMessage = Omit<BusMessage, 'key' | 'value'> & { key: Uint8Array | null; value: Uint8Array };
type WireConsumerOptions = Pick<ConsumerOptions, 'groupId' | 'topics' | 'fromBeginning' | 'commit'>;

type ToHost =
  | { k: 'req'; id: number; op: 'ensureTopics'; specs: TopicSpec[] }
  | { k: 'req'; id: number; op: 'partitionCount' | 'endOffsets'; topic: string }
  | { k: 'req'; id: number; op: 'producer'; producer: number; options?: ProducerOptions }
  | { k: 'req'; id: number; op: 'send'; producer: number; topic: string; messages: Array<{ key: string | null; value: Uint8Array }> }
  | { k: 'req'; id: number; op: 'closeProducer'; producer: number }
  | { k: 'req'; id: number; op: 'start' | 'stop'; consumer: number; options?: WireConsumerOptions }
  | { k: 'req'; id: number; op: 'close' }
  | { k: 'pause' | 'resume'; consumer: number; topics?: string[] }
  | { k: 'seek'; consumer: number; topic: string; partition: number; offset: string }
  | { k: 'done'; batch: number; error?: WireError; retryDelayMs?: number }
  | { k: 'assigned'; seq: number };

type ToClient =
  | { k: 'res'; id: number; value?: unknown; error?: WireError }
  | { k: 'batch'; consumer: number; batch: number; topic: string; partition: number; messages: WireMessage[] }
  | { k: 'abort'; batch: number; reason: string }
  | { k: 'assign'; consumer: number; seq: number; assigned: Array<{ topic: string; partition: number }> }
  | { k: 'crash'; consumer: number; error: WireError; restart: boolean };

function toWire(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const e = err as Error & Partial<WireError>;
  return { name: e.name, message: e.message, topic: e.topic, index: e.index, bytes: e.bytes, limit: e.limit, delivered: e.delivered };
}

/** The error as thrown on the other side: the bus's own classes keep their type and fields. */
function fromWire(w: WireError): Error {
  if (w.name === 'RecordTooLargeError') return new RecordTooLargeError(w.topic!, w.index!, w.bytes!, w.limit!);
  if (w.name === 'SendError') return new SendError(w.message, w.topic!, w.delivered!);
  const err = new Error(w.message);
  if (w.name !== 'Error') Object.defineProperty(err, 'name', { value: w.name });
  return err;
}

const tp = (topic: string, partition: number) => `${topic}/${partition}`;

// --- the client: a Bus whose calls happen in the host's process ---

export class RemoteBus implements Bus {
  readonly kind = 'remote' as const;
  private nextId = 1;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly consumers = new Map<number, RemoteConsumer>();
  private readonly batches = new Map<number, AbortController>();
  private readonly unlisten: () => void;
  private gone: string | undefined;

  constructor(private readonly channel: BusChannel) {
    this.unlisten = channel.listen((m) => this.receive(m as ToClient));
    channel.onClose(() => this.lose('the bus host is gone'));
  }

  ensureTopics(specs: TopicSpec[]): Promise<void> {
    return this.call({ op: 'ensureTopics', specs }) as Promise<void>;
  }

  partitionCount(topic: string): Promise<number> {
    return this.call({ op: 'partitionCount', topic }) as Promise<number>;
  }

  endOffsets(topic: string): Promise<Array<{ partition: number; offset: string }>> {
    return this.call({ op: 'endOffsets', topic }) as Promise<Array<{ partition: number; offset: string }>>;
  }

  async producer(options?: ProducerOptions): Promise<Producer> {
    const producer = this.nextId++;
    await this.call({ op: 'producer', producer, ...(options ? { options } : {}) });
    return {
      send: async (topic: string, messages: OutgoingMessage[]) => {
        await this.call({ op: 'send', producer, topic, messages: messages.map((m) => ({ key: m.key, value: m.value })) });
      },
      close: async () => {
        await this.call({ op: 'closeProducer', producer });
      },
    };
  }

  consumer(options: ConsumerOptions): Consumer {
    const c = new RemoteConsumer(this.nextId++, options, this);
    this.consumers.set(c.id, c);
    return c;
  }

  async close(): Promise<void> {
    if (this.gone) return;
    try {
      await this.call({ op: 'close' });
    } finally {
      this.lose('the bus is closed');
      this.unlisten();
    }
  }

  // --- used by RemoteConsumer ---

  call(req: Record<string, unknown> & { op: string }): Promise<unknown> {
    if (this.gone) return Promise.reject(new Error(`remote bus: ${this.gone}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.channel.post({ k: 'req', id, ...req });
    });
  }

  post(m: ToHost): void {
    if (!this.gone) this.channel.post(m);
  }

  private lose(why: string): void {
    if (this.gone) return;
    this.gone = why;
    for (const c of this.calls.values()) c.reject(new Error(`remote bus: ${why}`));
    this.calls.clear();
    for (const b of this.batches.values()) b.abort(new Error(`remote bus: ${why}`));
  }

  private receive(m: ToClient): void {
    switch (m.k) {
      case 'res': {
        const call = this.calls.get(m.id);
        if (!call) return;
        this.calls.delete(m.id);
        if (m.error) call.reject(fromWire(m.error));
        else call.resolve(m.value);
        return;
      }
      case 'batch': {
        const c = this.consumers.get(m.consumer);
        const lease = new AbortController();
        this.batches.set(m.batch, lease);
        const messages = m.messages.map((w) => ({ ...w, key: w.key === null ? null : asBuffer(w.key), value: asBuffer(w.value) }));
        const batch: Batch = { topic: m.topic, partition: m.partition, messages, signal: lease.signal };
        const handled = c ? c.handle(batch) : Promise.reject(new Error(`remote bus: no consumer ${m.consumer}`));
        handled.then(
          () => this.post({ k: 'done', batch: m.batch }),
          (err: unknown) => this.post({ k: 'done', batch: m.batch, error: toWire(err), ...c?.failed(batch, err) }),
        ).finally(() => this.batches.delete(m.batch));
        return;
      }
      case 'abort':
        this.batches.get(m.batch)?.abort(new Error(m.reason));
        return;
      case 'assign': {
        const c = this.consumers.get(m.consumer);
        Promise.resolve(c?.assigned(m.assigned))
          .catch(() => {})
          .finally(() => this.post({ k: 'assigned', seq: m.seq }));
        return;
      }
      case 'crash':
        this.consumers.get(m.consumer)?.options.onCrash?.(fromWire(m.error), m.restart);
        return;
    }
  }
}

class RemoteConsumer implements Consumer {
  private held: Array<{ topic: string; partition: number }> = [];
  private readonly failures = new Map<string, number>();
  private running = false;
  /** pause, resume and seek before start: sent right after it. */
  private early: ToHost[] = [];

  constructor(
    readonly id: number,
    readonly options: ConsumerOptions,
    private readonly bus: RemoteBus,
  ) {}

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const { groupId, topics, fromBeginning, commit } = this.options;
    const started = this.bus.call({ op: 'start', consumer: this.id, options: { groupId, topics, fromBeginning, commit } });
    for (const m of this.early.splice(0)) this.bus.post(m);
    await started;
  }

  pause(topics?: string[]): void {
    this.send({ k: 'pause', consumer: this.id, ...(topics ? { topics } : {}) });
  }

  resume(topics?: string[]): void {
    this.send({ k: 'resume', consumer: this.id, ...(topics ? { topics } : {}) });
  }

  seek(topic: string, partition: number, offset: string): void {
    const n = Number(offset);
    if (!Number.isInteger(n) || n < 0) throw new Error(`seek: offset must be a non-negative integer, got ${offset}`);
    this.send({ k: 'seek', consumer: this.id, topic, partition, offset });
  }

  private send(m: ToHost): void {
    if (this.running) this.bus.post(m);
    else this.early.push(m);
  }

  assignment() {
    return this.running ? this.held.map((a) => ({ ...a })) : [];
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.held = [];
    await this.bus.call({ op: 'stop', consumer: this.id });
  }

  async handle(batch: Batch): Promise<void> {
    await this.options.handleBatch(batch);
    this.failures.delete(tp(batch.topic, batch.partition));
  }

  /** A failed batch: told to onError here, and the delay before it comes again, worked out here. */
  failed(batch: Batch, err: unknown): { retryDelayMs?: number } {
    this.options.onError?.(err, batch);
    const key = tp(batch.topic, batch.partition);
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const delay = this.options.retryDelayMs?.(n, err);
    return delay === undefined ? {} : { retryDelayMs: delay };
  }

  async assigned(assigned: Array<{ topic: string; partition: number }>): Promise<void> {
    this.held = assigned;
    const mine = new Set(assigned.map((a) => tp(a.topic, a.partition)));
    for (const key of this.failures.keys()) if (!mine.has(key)) this.failures.delete(key);
    await this.options.onAssignment?.(assigned.map((a) => ({ ...a })));
  }
}

// --- the host: makes a client's calls on a real bus ---

export interface RemoteBusHostOptions {
  /** Close the bus itself when the client closes (default false: it is shared with others). */
  closesBus?: boolean;
}

/**
 * Serves one RemoteBus client on `bus`. When the client goes (closes, or its process dies), its
 * consumers leave their groups, so their partitions go to the other members: a dead trainer's
 * uncommitted batch comes again elsewhere, as on Kafka.
 */
export class RemoteBusHost {
  private readonly producers = new Map<number, Producer>();
  private readonly consumers = new Map<number, Consumer>();
  private readonly batches = new Map<number, { settle: (r: { error?: WireError; retryDelayMs?: number }) => void }>();
  private readonly assignments = new Map<number, () => void>();
  private nextBatch = 1;
  private nextSeq = 1;
  private readonly unlisten: () => void;
  private ended: Promise<void> | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly channel: BusChannel,
    private readonly options: RemoteBusHostOptions = {},
  ) {
    this.unlisten = channel.listen((m) => void this.receive(m as ToHost));
    channel.onClose(() => void this.end());
  }

  /** Stops the client's consumers and producers (the client is gone or closed). Idempotent. */
  end(): Promise<void> {
    this.ended ??= (async () => {
      // Batches in flight can never be answered now: failed, so they come again elsewhere.
      for (const b of this.batches.values()) b.settle({ error: { name: 'Error', message: 'the remote consumer is gone' }, retryDelayMs: 0 });
      for (const release of this.assignments.values()) release();
      await Promise.all([...this.consumers.values()].map((c) => c.stop().catch(() => {})));
      await Promise.all([...this.producers.values()].map((p) => p.close().catch(() => {})));
      this.consumers.clear();
      this.producers.clear();
      this.unlisten();
      if (this.options.closesBus) await this.bus.close();
    })();
    return this.ended;
  }

  private post(m: ToClient): void {
    this.channel.post(m);
  }

  private async receive(m: ToHost): Promise<void> {
    switch (m.k) {
      case 'req':
        try {
          this.post({ k: 'res', id: m.id, value: await this.request(m) });
        } catch (err) {
          this.post({ k: 'res', id: m.id, error: toWire(err) });
        }
        return;
      case 'pause':
        this.consumers.get(m.consumer)?.pause(m.topics);
        return;
      case 'resume':
        this.consumers.get(m.consumer)?.resume(m.topics);
        return;
      case 'seek':
        this.consumers.get(m.consumer)?.seek(m.topic, m.partition, m.offset);
        return;
      case 'done': {
        const b = this.batches.get(m.batch);
        this.batches.delete(m.batch);
        b?.settle(m);
        return;
      }
      case 'assigned':
        this.assignments.get(m.seq)?.();
        this.assignments.delete(m.seq);
        return;
    }
  }

  private async request(m: Extract<ToHost, { k: 'req' }>): Promise<unknown> {
    switch (m.op) {
      case 'ensureTopics':
        return this.bus.ensureTopics(m.specs);
      case 'partitionCount':
        return this.bus.partitionCount(m.topic);
      case 'endOffsets':
        return this.bus.endOffsets(m.topic);
      case 'producer':
        this.producers.set(m.producer, await this.bus.producer(m.options));
        return undefined;
      case 'send': {
        const p = this.producers.get(m.producer);
        if (!p) throw new Error('producer is closed');
        return p.send(
          m.topic,
          m.messages.map((x) => ({ key: x.key, value: asBuffer(x.value) })),
        );
      }
      case 'closeProducer': {
        const p = this.producers.get(m.producer);
        this.producers.delete(m.producer);
        return p?.close();
      }
      case 'start': {
        if (!m.options) throw new Error('start needs the consumer options');
        const c = this.consumer(m.consumer, m.options);
        this.consumers.set(m.consumer, c);
        return c.start();
      }
      case 'stop': {
        const c = this.consumers.get(m.consumer);
        this.consumers.delete(m.consumer);
        return c?.stop();
      }
      case 'close':
        return this.end();
    }
  }

  private consumer(id: number, o: WireConsumerOptions): Consumer {
    /** Failures carry the delay the client chose for them. */
    const delays = new WeakMap<Error, number>();
    return this.bus.consumer({
      ...o,
      handleBatch: (batch) =>
        new Promise<void>((resolve, reject) => {
          const n = this.nextBatch++;
          const onAbort = () => this.post({ k: 'abort', batch: n, reason: String((batch.signal?.reason as Error)?.message ?? batch.signal?.reason ?? 'aborted') });
          batch.signal?.addEventListener('abort', onAbort, { once: true });
          this.batches.set(n, {
            settle: (r) => {
              batch.signal?.removeEventListener('abort', onAbort);
              if (!r.error) return resolve();
              const err = fromWire(r.error);
              if (r.retryDelayMs !== undefined) delays.set(err, r.retryDelayMs);
              reject(err);
            },
          });
          if (this.ended) return this.batches.get(n)!.settle({ error: { name: 'Error', message: 'the remote consumer is gone' } });
          const messages: WireMessage[] = batch.messages.map((x) => ({ ...x }));
          this.post({ k: 'batch', consumer: id, batch: n, topic: batch.topic, partition: batch.partition, messages });
          if (batch.signal?.aborted) onAbort();
        }),
      retryDelayMs: (_failures, err) => (err instanceof Error ? delays.get(err) : undefined),
      onAssignment: (assigned) =>
        new Promise<void>((resolve) => {
          if (this.ended) return resolve();
          const seq = this.nextSeq++;
          this.assignments.set(seq, resolve);
          this.post({ k: 'assign', consumer: id, seq, assigned });
        }),
      onCrash: (err, restart) => this.post({ k: 'crash', consumer: id, error: toWire(err), restart }),
    });
  }
}
