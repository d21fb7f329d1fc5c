// In-process bus for the embedded mode, with Kafka's semantics where they matter to us:
// keyed partitioning (same function as Kafka), per-partition order, consumer groups that split
// partitions among members and rebalance when members come and go, commits after processing,
// redelivery after a failed batch (held back by retryDelayMs), pause/resume and seek, and the
// broker's size limits: its producer splits sends by bytes, and append() refuses a batch bigger
// than the topic's max.message.bytes as a broker would.
import type { Batch, Bus, BusMessage, Consumer, ConsumerOptions, OutgoingMessage, Producer, ProducerOptions, TopicSpec } from './bus.ts';
import { partitionForKey } from './partitioner.ts';
import {
  BATCH_OVERHEAD_BYTES,
  KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
  SendError,
  checkMaxRequestBytes,
  firstTooLarge,
  maxMessageBytesOf,
  recordBytesAt,
  splitBySize,
} from './request-size.ts';

const MAX_BATCH = 500;
const RETRY_DELAY_MS = 50;
const IDLE_WAIT_MS = 200;
/** How often a batch in flight checks whether its member must give its partition up. */
const LEASE_CHECK_MS = 20;

interface Topic {
  partitions: BusMessage[][];
  /** The topic's max.message.bytes: the largest batch one partition takes in one append. */
  maxMessageBytes: number;
}

export interface MemoryBusOptions {
  /** Partitions of a topic created by its first write (default 1). */
  defaultPartitions?: number;
  /** Budget of one append, like KafkaBusOptions.maxRequestBytes (default 900 KiB). */
  maxRequestBytes?: number;
}

interface Member {
  id: number;
  topics: string[];
  assigned: Array<{ topic: string; partition: number }>;
  /** Bumped by every rebalance of the member's group (Kafka's generation id). */
  generation: number;
  wake: () => void;
}

interface Group {
  members: Member[];
  /** topic/partition -> next offset to read */
  committed: Map<string, number>;
}

const tp = (topic: string, partition: number) => `${topic}/${partition}`;

export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly topics = new Map<string, Topic>();
  private readonly groups = new Map<string, Group>();
  private waiters = new Set<() => void>();
  private nextMemberId = 0;
  private roundRobin = 0;
  private closed = false;
  private readonly defaultPartitions: number;
  private readonly maxRequestBytes: number;

  /** A number is the default partition count (the older form). */
  constructor(options: MemoryBusOptions | number = {}) {
    const o = typeof options === 'number' ? { defaultPartitions: options } : options;
    this.defaultPartitions = o.defaultPartitions ?? 1;
    this.maxRequestBytes = checkMaxRequestBytes(o.maxRequestBytes);
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    for (const { topic, partitions, config } of specs) {
      if (!Number.isInteger(partitions) || partitions < 1) {
        throw new Error(`topic ${topic}: partitions must be a positive integer, got ${partitions}`);
      }
      const limit = maxMessageBytesOf(topic, config);
      const existing = this.topics.get(topic);
      if (!existing) {
        this.topics.set(topic, {
          partitions: Array.from({ length: partitions }, () => []),
          maxMessageBytes: limit ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
        });
        this.rebalanceAll();
      } else if (limit !== undefined && existing.maxMessageBytes < limit) {
        existing.maxMessageBytes = limit;
      }
    }
  }

  async partitionCount(topic: string): Promise<number> {
    return this.topics.get(topic)?.partitions.length ?? 0;
  }

  async endOffsets(topic: string) {
    return this.topic(topic).partitions.map((p, partition) => ({ partition, offset: String(p.length) }));
  }

  async producer(_options?: ProducerOptions): Promise<Producer> {
    let open = true;
    return {
      send: async (topic: string, messages: OutgoingMessage[]) => {
        if (!open) throw new Error('producer is closed');
        if (messages.length === 0) return;
        const limit = this.topics.get(topic)?.maxMessageBytes ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
        const tooLarge = firstTooLarge(topic, messages, limit);
        if (tooLarge) throw tooLarge;
        let delivered = 0;
        for (const chunk of splitBySize(messages, Math.min(this.maxRequestBytes, limit))) {
          try {
            this.append(topic, chunk);
          } catch (err) {
            const why = `send to ${topic} failed after ${delivered} of ${messages.length} messages: ${(err as Error).message}`;
            throw new SendError(why, topic, delivered, { cause: err });
          }
          delivered += chunk.length;
        }
      },
      close: async () => {
        open = false;
      },
    };
  }

  consumer(options: ConsumerOptions): Consumer {
    return new MemoryConsumer(this, options);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.notify();
  }

  // --- internals used by MemoryConsumer ---

  /**
   * The broker's side of a produce request: all or nothing, and refused (as Kafka's
   * MESSAGE_TOO_LARGE / RECORD_LIST_TOO_LARGE) when one partition's share is a batch bigger than
   * the topic's max.message.bytes.
   */
  append(topic: string, messages: OutgoingMessage[]): void {
    if (this.closed) throw new Error('bus is closed');
    if (!this.topics.has(topic)) {
      // Like a broker with auto.create.topics.enable: unknown topics appear on first write.
      this.topics.set(topic, {
        partitions: Array.from({ length: this.defaultPartitions }, () => []),
        maxMessageBytes: KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
      });
      this.rebalanceAll();
    }
    const t = this.topic(topic);
    const n = t.partitions.length;
    const placed = messages.map((m) => ({
      m,
      partition: m.key === null ? this.roundRobin++ % n : partitionForKey(m.key, n),
    }));
    const batches = new Map<number, { records: number; bytes: number }>();
    for (const { m, partition } of placed) {
      const b = batches.get(partition) ?? { records: 0, bytes: BATCH_OVERHEAD_BYTES };
      b.bytes += recordBytesAt(m, b.records++);
      batches.set(partition, b);
    }
    for (const [partition, { bytes }] of batches) {
      if (bytes > t.maxMessageBytes) {
        throw new Error(
          `MESSAGE_TOO_LARGE: a batch of ${bytes} bytes for ${topic}/${partition} is over the topic's max.message.bytes of ${t.maxMessageBytes}`,
        );
      }
    }
    const now = Date.now();
    for (const { m, partition } of placed) {
      const log = t.partitions[partition]!;
      log.push({
        topic,
        partition,
        offset: String(log.length),
        key: m.key === null ? null : Buffer.from(m.key, 'utf8'),
        value: m.value,
        timestamp: now,
      });
    }
    this.notify();
  }

  read(topic: string, partition: number, from: number, max: number): BusMessage[] {
    return this.topic(topic).partitions[partition]?.slice(from, from + max) ?? [];
  }

  end(topic: string, partition: number): number {
    return this.topic(topic).partitions[partition]?.length ?? 0;
  }

  join(groupId: string, topics: string[]): Member {
    const group = this.group(groupId);
    const member: Member = { id: this.nextMemberId++, topics, assigned: [], generation: 0, wake: () => {} };
    group.members.push(member);
    this.rebalance(group);
    return member;
  }

  leave(groupId: string, member: Member): void {
    const group = this.group(groupId);
    group.members = group.members.filter((m) => m !== member);
    this.rebalance(group);
  }

  committed(groupId: string, topic: string, partition: number): number | undefined {
    return this.group(groupId).committed.get(tp(topic, partition));
  }

  commit(groupId: string, topic: string, partition: number, next: number): void {
    this.group(groupId).committed.set(tp(topic, partition), next);
  }

  /** Resolves on the next append, rebalance or close, or after ms. */
  waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private topic(name: string): Topic {
    const t = this.topics.get(name);
    if (!t) throw new Error(`unknown topic ${name}: create it with ensureTopics first`);
    return t;
  }

  private group(id: string): Group {
    let g = this.groups.get(id);
    if (!g) {
      g = { members: [], committed: new Map() };
      this.groups.set(id, g);
    }
    return g;
  }

  private rebalanceAll(): void {
    for (const g of this.groups.values()) this.rebalance(g);
  }

  /** Round-robin assignment over members in join order, like Kafka's round-robin assignor. */
  private rebalance(group: Group): void {
    for (const m of group.members) {
      m.assigned = [];
      m.generation++;
    }
    const all = new Set(group.members.flatMap((m) => m.topics));
    let i = 0;
    for (const topic of [...all].sort()) {
      const t = this.topics.get(topic);
      if (!t) continue;
      const subscribers = group.members.filter((m) => m.topics.includes(topic));
      for (let p = 0; p < t.partitions.length; p++) {
        subscribers[i++ % subscribers.length]!.assigned.push({ topic, partition: p });
      }
    }
    this.notify();
  }
}

class MemoryConsumer implements Consumer {
  private member: Member | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly paused = new Set<string>();
  private readonly positions = new Map<string, number>();
  /** Partitions held back after a failed batch: when they may be read again, and failures in a row. */
  private readonly heldBack = new Map<string, { until: number; failures: number }>();

  constructor(
    private readonly bus: MemoryBus,
    private readonly options: ConsumerOptions,
  ) {}

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.member = this.bus.join(this.options.groupId, this.options.topics);
    this.loop = this.run();
  }

  pause(topics = this.options.topics): void {
    for (const t of topics) this.paused.add(t);
  }

  resume(topics = this.options.topics): void {
    for (const t of topics) this.paused.delete(t);
  }

  seek(topic: string, partition: number, offset: string): void {
    const n = Number(offset);
    if (!Number.isInteger(n) || n < 0) throw new Error(`seek: offset must be a non-negative integer, got ${offset}`);
    this.positions.set(tp(topic, partition), n);
  }

  assignment() {
    return this.running && this.member ? this.member.assigned.map((a) => ({ ...a })) : [];
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.loop;
    if (this.member) this.bus.leave(this.options.groupId, this.member);
  }

  private position(topic: string, partition: number): number {
    const key = tp(topic, partition);
    const pos =
      this.positions.get(key) ??
      this.bus.committed(this.options.groupId, topic, partition) ??
      (this.options.fromBeginning ? 0 : this.bus.end(topic, partition));
    this.positions.set(key, pos);
    return pos;
  }

  private async run(): Promise<void> {
    const { groupId, handleBatch, onError } = this.options;
    let owned = new Set<string>();
    let generation = -1;
    while (this.running && !this.bus.isClosed) {
      const member = this.member!;
      if (member.generation !== generation) {
        generation = member.generation;
        await this.options.onAssignment?.(member.assigned.map((a) => ({ ...a })));
        continue; // the hook may have taken time: look at the assignment again
      }
      // Partitions taken away by a rebalance restart from the group's committed offset elsewhere.
      const now = new Set(member.assigned.map((a) => tp(a.topic, a.partition)));
      for (const key of owned) {
        if (!now.has(key)) {
          this.positions.delete(key);
          this.heldBack.delete(key);
        }
      }
      owned = now;

      let delivered = false;
      let wakeAt = Date.now() + IDLE_WAIT_MS;
      for (const { topic, partition } of member.assigned) {
        if (!this.running) break;
        // A rebalance happened during the last batch: run onAssignment before any other batch.
        if (member.generation !== generation) break;
        if (this.paused.has(topic)) continue;
        const key = tp(topic, partition);
        const held = this.heldBack.get(key);
        if (held && held.until > Date.now()) {
          wakeAt = Math.min(wakeAt, held.until);
          continue;
        }
        const from = this.position(topic, partition);
        const messages = this.bus.read(topic, partition, from, MAX_BATCH);
        if (messages.length === 0) continue;
        delivered = true;
        // The batch's lease: aborted if this member stops or its group rebalances meanwhile.
        const lease = new AbortController();
        const watch = setInterval(() => {
          if (!this.running || member.generation !== generation) lease.abort(new Error(this.running ? `group ${groupId} is rebalancing` : 'the consumer is stopping'));
        }, LEASE_CHECK_MS);
        const batch: Batch = { topic, partition, messages, signal: lease.signal };
        try {
          await handleBatch(batch);
        } catch (err) {
          onError?.(err, batch);
          // Not committed: rewind to the committed offset so the batch is delivered again, after
          // a delay during which the other partitions go on.
          const committed = this.bus.committed(groupId, topic, partition);
          this.positions.set(key, committed ?? from);
          const failures = (held?.failures ?? 0) + 1;
          const delay = this.options.retryDelayMs?.(failures, err) ?? RETRY_DELAY_MS;
          this.heldBack.set(key, { until: Date.now() + Math.max(0, delay), failures });
          continue;
        } finally {
          clearInterval(watch);
        }
        this.heldBack.delete(key);
        const next = from + messages.length;
        if (this.options.commit !== false) this.bus.commit(groupId, topic, partition, next);
        // A seek during the handler wins over the natural advance.
        if (this.positions.get(tp(topic, partition)) === from) this.positions.set(tp(topic, partition), next);
      }
      if (!delivered) await this.bus.waitForChange(Math.max(1, wakeAt - Date.now()));
    }
  }
}
