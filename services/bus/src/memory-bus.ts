// In-process bus for the embedded mode, with Kafka's semantics where they matter to us:
// keyed partitioning (same function as Kafka), per-partition order, consumer groups that split
// partitions among members and rebalance when members come and go, commits after processing,
// redelivery after a failed batch, pause/resume and seek.
import type { Batch, Bus, BusMessage, Consumer, ConsumerOptions, OutgoingMessage, Producer, TopicSpec } from './bus.ts';
import { partitionForKey } from './partitioner.ts';

const MAX_BATCH = 500;
const RETRY_DELAY_MS = 50;

interface Topic {
  partitions: BusMessage[][];
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

  constructor(private readonly defaultPartitions = 1) {}

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    for (const { topic, partitions } of specs) {
      if (!Number.isInteger(partitions) || partitions < 1) {
        throw new Error(`topic ${topic}: partitions must be a positive integer, got ${partitions}`);
      }
      if (!this.topics.has(topic)) {
        this.topics.set(topic, { partitions: Array.from({ length: partitions }, () => []) });
        this.rebalanceAll();
      }
    }
  }

  async partitionCount(topic: string): Promise<number> {
    return this.topic(topic).partitions.length;
  }

  async endOffsets(topic: string) {
    return this.topic(topic).partitions.map((p, partition) => ({ partition, offset: String(p.length) }));
  }

  async producer(): Promise<Producer> {
    let open = true;
    return {
      send: async (topic: string, messages: OutgoingMessage[]) => {
        if (!open) throw new Error('producer is closed');
        this.append(topic, messages);
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

  append(topic: string, messages: OutgoingMessage[]): void {
    if (this.closed) throw new Error('bus is closed');
    if (!this.topics.has(topic)) {
      // Like a broker with auto.create.topics.enable: unknown topics appear on first write.
      this.topics.set(topic, { partitions: Array.from({ length: this.defaultPartitions }, () => []) });
      this.rebalanceAll();
    }
    const t = this.topic(topic);
    const now = Date.now();
    for (const m of messages) {
      const n = t.partitions.length;
      const partition = m.key === null ? this.roundRobin++ % n : partitionForKey(m.key, n);
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
      for (const key of owned) if (!now.has(key)) this.positions.delete(key);
      owned = now;

      let delivered = false;
      for (const { topic, partition } of member.assigned) {
        if (!this.running) break;
        if (this.paused.has(topic)) continue;
        const from = this.position(topic, partition);
        const messages = this.bus.read(topic, partition, from, MAX_BATCH);
        if (messages.length === 0) continue;
        delivered = true;
        const batch: Batch = { topic, partition, messages };
        try {
          await handleBatch(batch);
        } catch (err) {
          onError?.(err, batch);
          // Not committed: rewind to the committed offset so the batch is delivered again.
          const committed = this.bus.committed(groupId, topic, partition);
          this.positions.set(tp(topic, partition), committed ?? from);
          await new Promise((r) => setTimeout(r, RETRY_DELAY_MS));
          continue;
        }
        const next = from + messages.length;
        if (this.options.commit !== false) this.bus.commit(groupId, topic, partition, next);
        // A seek during the handler wins over the natural advance.
        if (this.positions.get(tp(topic, partition)) === from) this.positions.set(tp(topic, partition), next);
      }
      if (!delivered) await this.bus.waitForChange(200);
    }
  }
}
