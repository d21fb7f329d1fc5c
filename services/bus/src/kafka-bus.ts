// The bus over a real Kafka cluster, through kafkajs. Kept behind the Bus interface so the client
// can be swapped (kafkajs 2.2.4 is its last release; see DESIGN.md).
import { Kafka, Partitioners, logLevel, type Admin, type Consumer as KafkaConsumer, type Producer as KafkaProducer } from 'kafkajs';
import type { Batch, Bus, Consumer, ConsumerOptions, OutgoingMessage, Producer, TopicSpec } from './bus.ts';

export interface KafkaBusOptions {
  brokers: string[];
  clientId?: string;
  /** How long start() waits for the group join before failing. */
  joinTimeoutMs?: number;
  /** Per-request timeout; a missing broker is an error after connectionTimeout + retries. */
  connectionTimeoutMs?: number;
  logLevel?: 'nothing' | 'error' | 'warn' | 'info' | 'debug';
}

const LEVELS = { nothing: logLevel.NOTHING, error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG };
const RETRY_DELAY_MS = 200;

/** Parses "host:port,host:port" (GROKSTREAM_KAFKA_BROKERS) with a clear error. */
export function parseBrokers(list: string): string[] {
  const brokers = list.split(',').map((b) => b.trim()).filter(Boolean);
  if (brokers.length === 0) throw new Error('no Kafka brokers given: expected host:port[,host:port...]');
  for (const b of brokers) {
    if (!/^[^:\s]+:\d{1,5}$/.test(b)) throw new Error(`bad Kafka broker address "${b}": expected host:port`);
  }
  return brokers;
}

export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private admin: Admin | undefined;
  private readonly open = new Set<{ close(): Promise<void> }>();

  constructor(private readonly options: KafkaBusOptions) {
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'grokstream',
      brokers: options.brokers,
      connectionTimeout: options.connectionTimeoutMs ?? 3000,
      logLevel: LEVELS[options.logLevel ?? 'warn'],
      retry: { retries: 5, initialRetryTime: 200 },
    });
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const admin = await this.connectedAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    for (const s of missing) {
      if (!Number.isInteger(s.partitions) || s.partitions < 1) {
        throw new Error(`topic ${s.topic}: partitions must be a positive integer, got ${s.partitions}`);
      }
    }
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({ topic: s.topic, numPartitions: s.partitions, replicationFactor: -1 })),
      });
    }
  }

  async partitionCount(topic: string): Promise<number> {
    const admin = await this.connectedAdmin();
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]?.partitions.length ?? 0;
  }

  async endOffsets(topic: string) {
    const admin = await this.connectedAdmin();
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.map((o) => ({ partition: o.partition, offset: o.high })).sort((a, b) => a.partition - b.partition);
  }

  async producer(): Promise<Producer> {
    const producer: KafkaProducer = this.kafka.producer({
      idempotent: true, // exactly one copy per send even when a retry follows a lost ack
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: true,
    });
    await producer.connect();
    const handle = {
      send: async (topic: string, messages: OutgoingMessage[]) => {
        if (messages.length === 0) return;
        await producer.send({ topic, acks: -1, messages: messages.map((m) => ({ key: m.key, value: m.value })) });
      },
      close: async () => {
        this.open.delete(handle);
        await producer.disconnect();
      },
    };
    this.open.add(handle);
    return handle;
  }

  consumer(options: ConsumerOptions): Consumer {
    const consumer = new KafkaGroupConsumer(this.kafka, options, this.options.joinTimeoutMs ?? 60_000);
    const handle = {
      close: () => consumer.stop(),
    };
    this.open.add(handle);
    return consumer;
  }

  async close(): Promise<void> {
    for (const h of [...this.open]) await h.close();
    this.open.clear();
    if (this.admin) await this.admin.disconnect();
    this.admin = undefined;
  }

  private async connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      try {
        await admin.connect();
      } catch (err) {
        throw new Error(
          `cannot reach Kafka at ${this.options.brokers.join(',')}: ${(err as Error).message}. ` +
            'Start the local stack with `pnpm stack:up`, or check GROKSTREAM_KAFKA_BROKERS.',
        );
      }
      this.admin = admin;
    }
    return this.admin;
  }
}

class KafkaGroupConsumer implements Consumer {
  private readonly consumer: KafkaConsumer;
  private started = false;
  private stopped = false;
  private assigned: Array<{ topic: string; partition: number }> = [];
  /** Set by each group join; the hook runs before the next batch (see ConsumerOptions.onAssignment). */
  private assignmentChanged = false;

  constructor(
    kafka: Kafka,
    private readonly options: ConsumerOptions,
    private readonly joinTimeoutMs: number,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 20_000,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      this.assigned = Object.entries(payload.memberAssignment).flatMap(([topic, partitions]) =>
        partitions.map((partition) => ({ topic, partition })),
      );
      this.assignmentChanged = true;
    });
    this.consumer.on(this.consumer.events.REBALANCING, () => {
      this.assigned = [];
    });
    // kafkajs restarts a crashed consumer on retriable errors; either way, say so.
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      const why = `consumer group ${options.groupId} crashed (${payload.error.message}); restart: ${payload.restart}`;
      if (options.onCrash) options.onCrash(payload.error, payload.restart);
      else console.error(`[grokstream bus] ${why}`);
    });
  }

  assignment() {
    return this.stopped ? [] : this.assigned.map((a) => ({ ...a }));
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { topics, fromBeginning, handleBatch, onError } = this.options;
    let timer: NodeJS.Timeout | undefined;
    let removeListener: (() => void) | undefined;
    const joined = new Promise<void>((resolve, reject) => {
      removeListener = this.consumer.on(this.consumer.events.GROUP_JOIN, () => resolve());
      timer = setTimeout(
        () => reject(new Error(`consumer group ${this.options.groupId} did not join within ${this.joinTimeoutMs} ms`)),
        this.joinTimeoutMs,
      );
    });
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({ topics, fromBeginning: fromBeginning ?? false });
      await this.consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }) => {
          if (!isRunning() || isStale()) return;
          if (this.assignmentChanged && this.options.onAssignment) {
            this.assignmentChanged = false;
            await this.options.onAssignment(this.assignment());
            if (!isRunning() || isStale()) return;
          }
          if (batch.messages.length === 0) return;
          const ours: Batch = {
            topic: batch.topic,
            partition: batch.partition,
            messages: batch.messages.map((m) => ({
              topic: batch.topic,
              partition: batch.partition,
              offset: m.offset,
              key: m.key,
              value: m.value ?? Buffer.alloc(0),
              timestamp: Number(m.timestamp),
            })),
          };
          try {
            await handleBatch(ours);
          } catch (err) {
            onError?.(err, ours);
            // Not committed: rewind so the same messages come again (at-least-once).
            this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: batch.messages[0]!.offset });
            await new Promise((r) => setTimeout(r, RETRY_DELAY_MS));
            return;
          }
          const last = batch.messages[batch.messages.length - 1]!.offset;
          resolveOffset(last);
          if (this.options.commit === false) {
            await heartbeat();
            return;
          }
          // The batch's own commit: consumer.commitOffsets() is a silent no-op once stop() has
          // begun, which would lose the commit of the batch that stop() waits for.
          await commitOffsetsIfNecessary({
            topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] }],
          });
          await heartbeat();
        },
      });
      await joined;
    } finally {
      clearTimeout(timer);
      removeListener?.();
    }
  }

  pause(topics = this.options.topics): void {
    this.consumer.pause(topics.map((topic) => ({ topic })));
  }

  resume(topics = this.options.topics): void {
    this.consumer.resume(topics.map((topic) => ({ topic })));
  }

  seek(topic: string, partition: number, offset: string): void {
    this.consumer.seek({ topic, partition, offset });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // disconnect() waits for the batch in flight, then leaves the group.
    await this.consumer.disconnect();
  }
}
