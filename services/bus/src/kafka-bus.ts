// The bus over a real Kafka cluster, through kafkajs. Kept behind the Bus interface so the client
// can be swapped: kafkajs 2.2.4 is its last release (docs/architecture.md, "Machines and limits").
import {
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type ConfigResourceTypes,
  type KafkaConfig,
  type Consumer as KafkaConsumer,
  type Producer as KafkaProducer,
} from 'kafkajs';
import type { Batch, Bus, Consumer, ConsumerOptions, OutgoingMessage, Producer, ProducerOptions, TopicSpec } from './bus.ts';
import { explainKafkaError, isUnreachable, kafkaError, kafkaErrorType, type KafkaErrorContext } from './kafka-errors.ts';
import { kafkaLogCreator, stderrLog, type KafkaLog } from './kafka-log.ts';
import { MessageKeys } from './message-keys.ts';
import { GroupMembership } from './group-membership.ts';
import {
  KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
  RecordTooLargeError,
  SendError,
  checkMaxRequestBytes,
  firstTooLarge,
  maxMessageBytesOf,
  splitBySize,
} from './request-size.ts';

export interface KafkaBusOptions {
  brokers: string[];
  clientId?: string;
  /** How long start() waits for the group join before failing (default 60 s). */
  joinTimeoutMs?: number;
  /** TCP connect timeout per attempt (default 3 s). */
  connectionTimeoutMs?: number;
  /**
   * How long a request waits for the broker's answer (default 10 s). A broker that accepts
   * connections but never answers fails connects and requests after about this long.
   */
  requestTimeoutMs?: number;
  /**
   * Budget of one produce request in bytes (default 900 KiB, under the broker's 1 MB
   * message.max.bytes): a larger send goes out as several requests, in order.
   */
  maxRequestBytes?: number;
  /** What the client logs (default 'warn'). */
  logLevel?: 'nothing' | 'error' | 'warn' | 'info' | 'debug';
  /** Where the client's log lines go, one readable line each (default: stderr). */
  log?: KafkaLog;
  /** TLS to the brokers, passed to kafkajs as is (true, or tls.connect options). */
  ssl?: KafkaConfig['ssl'];
  /** SASL authentication (plain, scram-sha-256/512, aws, oauthbearer), passed to kafkajs as is. */
  sasl?: KafkaConfig['sasl'];
}

const LEVELS = { nothing: logLevel.NOTHING, error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG };
const RETRY_DELAY_MS = 200;
/** Heartbeats while a batch is handled (the consumer's heartbeatInterval: kafkajs sends no more often). */
const HEARTBEAT_MS = 1_000;
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;
const TOPIC_CONFIG_SOURCE = 1;
const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);
/**
 * The broker no longer knows this idempotent producer's sequence: after a broker killed mid-send
 * and restarted, every later send of the same producer fails with OUT_OF_ORDER_SEQUENCE_NUMBER,
 * for ever (seen in the fault suite: a trainer stuck for 300 s, then spilling). The way out is a
 * new producer (a new producer id). A batch the broker did store before the crash may then be on
 * the topic twice: consumers drop repeats by event id and the store's keys collapse them.
 */
const PRODUCER_STATE_LOST = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']);

/** Parses "host:port,host:port" (GROKSTREAM_KAFKA_BROKERS) with a clear error. */
export function parseBrokers(list: string): string[] {
  const brokers = list.split(',').map((b) => b.trim()).filter(Boolean);
  if (brokers.length === 0) throw new Error('no Kafka brokers given: expected host:port[,host:port...]');
  for (const b of brokers) {
    if (!/^[^:\s]+:\d{1,5}$/.test(b)) throw new Error(`bad Kafka broker address "${b}": expected host:port`);
  }
  return brokers;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number of milliseconds, got ${value}`);
  return v;
}

const LEADERSHIP_MOVING = new Set(['NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE']);

export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private admin: Admin | undefined;
  private readonly open = new Set<{ close(): Promise<void> }>();
  private readonly maxRequestBytes: number;
  /** The longest a request waits for an answer: what "did not answer within" reports. */
  private readonly answerTimeoutMs: number;
  private readonly log: KafkaLog;
  /** Topic -> max.message.bytes, as described by the broker; forgotten when ensureTopics touches the topic. */
  private readonly limits = new Map<string, number>();
  /** Message keys as bytes, made once per key (message-keys.ts). */
  private readonly keys = new MessageKeys();

  constructor(private readonly options: KafkaBusOptions) {
    if (options.brokers.length === 0) throw new Error('no Kafka brokers given: expected host:port[,host:port...]');
    this.maxRequestBytes = checkMaxRequestBytes(options.maxRequestBytes);
    const requestTimeoutMs = positive('requestTimeoutMs', options.requestTimeoutMs, 10_000);
    const connectionTimeoutMs = positive('connectionTimeoutMs', options.connectionTimeoutMs, 3000);
    // kafkajs waits max(request, connection timeout) for the handshake of a new connection.
    this.answerTimeoutMs = Math.max(requestTimeoutMs, connectionTimeoutMs);
    this.log = options.log ?? stderrLog;
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'grokstream',
      brokers: options.brokers,
      connectionTimeout: connectionTimeoutMs,
      requestTimeout: requestTimeoutMs,
      enforceRequestTimeout: true,
      logLevel: LEVELS[options.logLevel ?? 'warn'],
      logCreator: kafkaLogCreator(this.log),
      retry: { retries: 5, initialRetryTime: 200 },
      ...(options.ssl !== undefined ? { ssl: options.ssl } : {}),
      ...(options.sasl !== undefined ? { sasl: options.sasl } : {}),
    });
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    for (const s of specs) {
      if (!Number.isInteger(s.partitions) || s.partitions < 1) {
        throw new Error(`topic ${s.topic}: partitions must be a positive integer, got ${s.partitions}`);
      }
      maxMessageBytesOf(s.topic, s.config);
    }
    for (const s of specs) this.limits.delete(s.topic);
    await this.withAdmin(`ensuring topics ${specs.map((s) => s.topic).join(', ')}`, async (admin) => {
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !existing.has(s.topic));
      if (missing.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((s) => ({
            topic: s.topic,
            numPartitions: s.partitions,
            replicationFactor: -1,
            configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
          })),
        });
      }
      for (const s of specs) {
        const wanted = maxMessageBytesOf(s.topic, s.config);
        if (existing.has(s.topic) && wanted !== undefined) await this.raiseMaxMessageBytes(admin, s.topic, wanted);
      }
    });
  }

  async partitionCount(topic: string): Promise<number> {
    try {
      return await this.withAdmin(`reading the partitions of ${topic}`, async (admin) => {
        const meta = await admin.fetchTopicMetadata({ topics: [topic] });
        return meta.topics[0]?.partitions.length ?? 0;
      });
    } catch (err) {
      if (kafkaErrorType(err) === 'UNKNOWN_TOPIC_OR_PARTITION') return 0;
      throw err;
    }
  }

  async endOffsets(topic: string) {
    return this.withAdmin(`reading the end offsets of ${topic}`, async (admin) => {
      // Just after a topic is created (or a broker restarted) leadership may still be moving:
      // refresh the topic's metadata and ask again, a few times, before giving up.
      for (let attempt = 0; ; attempt++) {
        try {
          const offsets = await admin.fetchTopicOffsets(topic);
          return offsets.map((o) => ({ partition: o.partition, offset: o.high })).sort((a, b) => a.partition - b.partition);
        } catch (err) {
          if (attempt >= 10 || !LEADERSHIP_MOVING.has(kafkaErrorType(err) ?? '')) throw err;
          await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => {});
          await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
        }
      }
    });
  }

  async producer(options?: ProducerOptions): Promise<Producer> {
    const connect = async (): Promise<KafkaProducer> => {
      const p: KafkaProducer = this.kafka.producer({
        idempotent: true, // exactly one copy per send even when a retry follows a lost ack
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: true,
      });
      try {
        await p.connect();
      } catch (err) {
        await p.disconnect().catch(() => {});
        throw this.error(err, 'connecting a producer');
      }
      return p;
    };
    let producer = await connect();
    // A topic that does not exist yet keeps Kafka's default limit, and is looked up again on send.
    for (const topic of options?.topics ?? []) await this.maxMessageBytes(topic);
    const handle = {
      send: async (topic: string, messages: OutgoingMessage[]) => {
        if (messages.length === 0) return;
        const limit = await this.maxMessageBytes(topic);
        const tooLarge = firstTooLarge(topic, messages, limit);
        if (tooLarge) throw tooLarge;
        let delivered = 0;
        // One request at a time, in order: each key keeps its order, and none is over the limits.
        for (const chunk of splitBySize(messages, Math.min(this.maxRequestBytes, limit))) {
          try {
            await producer.send({ topic, acks: -1, messages: chunk.map((m) => ({ key: m.key === null ? null : this.keys.bytes(m.key), value: m.value })) });
          } catch (err) {
            if (PRODUCER_STATE_LOST.has(kafkaErrorType(err) ?? '')) {
              // A new producer for the next attempt (the caller retries the send); this one's
              // sequence numbers will never be accepted again.
              const stale = producer;
              producer = await connect().catch(() => stale);
              if (producer !== stale) {
                this.log('warn', `producer: the broker lost this producer's sequence (${kafkaErrorType(err)}); sending on a new producer`);
                void stale.disconnect().catch(() => {});
              }
            }
            if (TOO_LARGE.has(kafkaErrorType(err) ?? '')) {
              // The topic's limit changed since we described it: describe it again.
              this.limits.delete(topic);
              const now = await this.maxMessageBytes(topic).catch(() => limit);
              const tooLarge = firstTooLarge(topic, chunk, now);
              if (tooLarge && delivered === 0) {
                throw new RecordTooLargeError(topic, messages.indexOf(chunk[tooLarge.index]!), tooLarge.bytes, now);
              }
            }
            const why = explainKafkaError(err, this.context(`sending ${chunk.length} messages to ${topic}`));
            throw new SendError(`${why} (${delivered} of the ${messages.length} messages of this send were accepted before)`, topic, delivered, {
              cause: err,
            });
          }
          delivered += chunk.length;
        }
      },
      close: async () => {
        this.open.delete(handle);
        await producer.disconnect();
      },
    };
    this.open.add(handle);
    return handle;
  }

  /**
   * This bus's options without its log function, when they can be copied to a worker thread (a
   * SASL mechanism with a token provider function cannot): for a consumer that must not wait on
   * a busy main thread (the trainer's command listener).
   */
  portableOptions(): KafkaBusOptions | undefined {
    const { log: _log, ...rest } = this.options;
    try {
      structuredClone(rest);
      return rest;
    } catch {
      return undefined;
    }
  }

  consumer(options: ConsumerOptions): Consumer {
    const consumer = new KafkaGroupConsumer(this.kafka, options, {
      joinTimeoutMs: this.options.joinTimeoutMs ?? 60_000,
      log: this.log,
      error: (err, what) => this.error(err, what),
    });
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

  private context(what: string): KafkaErrorContext {
    return { brokers: this.options.brokers, what, requestTimeoutMs: this.answerTimeoutMs };
  }

  private error(err: unknown, what: string): Error {
    return kafkaError(err, this.context(what));
  }

  /** The topic's max.message.bytes; Kafka's default when the topic does not exist yet (auto-created on send). */
  private async maxMessageBytes(topic: string): Promise<number> {
    const known = this.limits.get(topic);
    if (known !== undefined) return known;
    let limit: number | undefined;
    try {
      limit = await this.withAdmin(`describing topic ${topic}`, async (admin) => {
        const described = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: ['max.message.bytes'] }],
        });
        const value = described.resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue;
        return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
      });
    } catch (err) {
      if (kafkaErrorType(err) !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
    }
    if (limit === undefined) return KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
    this.limits.set(topic, limit);
    return limit;
  }

  /**
   * A topic created before its spec asked for a larger max.message.bytes (the dead-letter topic
   * of an older install) is raised to it; the topic's other settings are kept (AlterConfigs
   * replaces the whole set, so they are sent again). Never lowered: an operator may have set more.
   */
  private async raiseMaxMessageBytes(admin: Admin, topic: string, wanted: number): Promise<void> {
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC_RESOURCE, name: topic }] });
    const entries = described.resources[0]?.configEntries ?? [];
    const current = Number(entries.find((e) => e.configName === 'max.message.bytes')?.configValue ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES);
    if (current >= wanted) return;
    const overrides = entries
      .filter((e) => !e.isDefault && e.configSource === TOPIC_CONFIG_SOURCE && !e.isSensitive && e.configName !== 'max.message.bytes')
      .map((e) => ({ name: e.configName, value: e.configValue }));
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: TOPIC_RESOURCE, name: topic, configEntries: [...overrides, { name: 'max.message.bytes', value: String(wanted) }] }],
    });
  }

  /**
   * Runs an admin call; its errors name the brokers. After a connection failure the admin
   * client is dropped, so the next call connects afresh instead of reusing a dead one.
   */
  private async withAdmin<T>(what: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = await this.connectedAdmin();
    try {
      return await fn(admin);
    } catch (err) {
      if (isUnreachable(err) && this.admin === admin) {
        this.admin = undefined;
        await admin.disconnect().catch(() => {});
      }
      throw this.error(err, what);
    }
  }

  private async connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      try {
        await admin.connect();
      } catch (err) {
        await admin.disconnect().catch(() => {});
        throw this.error(err, 'connecting');
      }
      this.admin = admin;
    }
    return this.admin;
  }
}

interface ConsumerContext {
  joinTimeoutMs: number;
  log: KafkaLog;
  error: (err: unknown, what: string) => Error;
}

const tp = (topic: string, partition: number) => `${topic}/${partition}`;

class KafkaGroupConsumer implements Consumer {
  private readonly consumer: KafkaConsumer;
  private started = false;
  private stopped = false;
  private running = false;
  /** What this member holds, from kafkajs's join, rebalance and heartbeat events (group-membership.ts). */
  private readonly membership = new GroupMembership();
  /** Set by each group join; the hook runs before the next batch (see ConsumerOptions.onAssignment). */
  private assignmentChanged = false;
  /** Topics paused by the user (pause()), apart from partitions held back after a failure. */
  private readonly userPaused = new Set<string>();
  /** Partitions held back after a failed batch, until their timer resumes them. */
  private readonly heldBack = new Map<string, { topic: string; partition: number; timer: NodeJS.Timeout }>();
  /** Failed batches in a row, per partition, for retryDelayMs. */
  private readonly failures = new Map<string, number>();

  constructor(
    kafka: Kafka,
    private readonly options: ConsumerOptions,
    private readonly context: ConsumerContext,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: HEARTBEAT_MS,
      rebalanceTimeout: 20_000,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      this.membership.join(payload.memberId, payload.memberAssignment);
      this.assignmentChanged = true;
    });
    this.consumer.on(this.consumer.events.REBALANCING, () => this.membership.rebalancing());
    this.consumer.on(this.consumer.events.HEARTBEAT, ({ payload }) => this.membership.heartbeat(payload.memberId, payload.groupGenerationId));
    // kafkajs restarts a crashed consumer on retriable errors (as a new member); either way, say so.
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      this.membership.reset();
      if (options.onCrash) options.onCrash(payload.error, payload.restart);
      else {
        const why = context.error(payload.error, `consuming as group ${options.groupId}`).message;
        context.log('error', `[grokstream bus] consumer group ${options.groupId} crashed (${why}); restart: ${payload.restart}`);
      }
    });
  }

  assignment() {
    return this.stopped ? [] : this.membership.assignment();
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { groupId, topics, fromBeginning, handleBatch, onError } = this.options;
    let timer: NodeJS.Timeout | undefined;
    let removeListener: (() => void) | undefined;
    const joined = new Promise<void>((resolve, reject) => {
      removeListener = this.consumer.on(this.consumer.events.GROUP_JOIN, () => resolve());
      timer = setTimeout(
        () => reject(new Error(`consumer group ${groupId} did not join within ${this.context.joinTimeoutMs} ms`)),
        this.context.joinTimeoutMs,
      );
    });
    joined.catch(() => {}); // awaited below; a failed connect must not leave it unhandled
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
          const key = tp(batch.topic, batch.partition);
          // The batch's lease: heartbeats keep the membership alive while a long handler runs (a
          // worker training a sweep point); a failed heartbeat (the group is rebalancing) or a
          // stop aborts the signal, and the handler hands its partition back within the
          // rebalance timeout.
          const lease = new AbortController();
          const beat = setInterval(() => {
            if (lease.signal.aborted) return;
            if (!isRunning() || isStale()) {
              lease.abort(new Error('the consumer is stopping, or the partition was reassigned'));
              return;
            }
            heartbeat().catch((err: unknown) => lease.abort(new Error(`group ${groupId} is rebalancing (${(err as Error).message})`)));
          }, HEARTBEAT_MS);
          ours.signal = lease.signal;
          try {
            await handleBatch(ours);
          } catch (err) {
            onError?.(err, ours);
            // Not committed: rewind so the same messages come again (at-least-once), after a
            // delay in which this partition is paused (not slept on: heartbeats and the other
            // partitions go on).
            this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: batch.messages[0]!.offset });
            const failures = (this.failures.get(key) ?? 0) + 1;
            this.failures.set(key, failures);
            this.holdBack(batch.topic, batch.partition, this.options.retryDelayMs?.(failures, err) ?? RETRY_DELAY_MS);
            return;
          } finally {
            clearInterval(beat);
          }
          this.failures.delete(key);
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
      this.running = true;
      for (const t of this.userPaused) this.applyPauses(t); // paused before start
      await joined;
    } catch (err) {
      // Leave nothing running behind a failed start; start() may be called again.
      this.running = false;
      this.started = false;
      await this.consumer.disconnect().catch(() => {});
      throw this.context.error(err, `starting consumer group ${groupId} on ${topics.join(', ')}`);
    } finally {
      clearTimeout(timer);
      removeListener?.();
    }
  }

  pause(topics = this.options.topics): void {
    for (const t of topics) this.userPaused.add(t);
    for (const t of topics) this.applyPauses(t);
  }

  resume(topics = this.options.topics): void {
    for (const t of topics) this.userPaused.delete(t);
    for (const t of topics) this.applyPauses(t);
  }

  seek(topic: string, partition: number, offset: string): void {
    this.consumer.seek({ topic, partition, offset });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    for (const h of this.heldBack.values()) clearTimeout(h.timer);
    this.heldBack.clear();
    // disconnect() waits for the batch in flight, then leaves the group.
    await this.consumer.disconnect();
  }

  private holdBack(topic: string, partition: number, ms: number): void {
    const key = tp(topic, partition);
    const previous = this.heldBack.get(key);
    if (previous) clearTimeout(previous.timer);
    const timer = setTimeout(() => {
      this.heldBack.delete(key);
      this.applyPauses(topic);
    }, Math.max(0, ms));
    this.heldBack.set(key, { topic, partition, timer });
    this.applyPauses(topic);
  }

  /**
   * kafkajs keeps one pause state per topic, and pausing single partitions cancels a whole-topic
   * pause; so the state is recomputed from the user's pauses and the partitions held back.
   */
  private applyPauses(topic: string): void {
    if (this.stopped || !this.running) return;
    if (this.userPaused.has(topic)) {
      this.consumer.pause([{ topic }]);
      return;
    }
    this.consumer.resume([{ topic }]);
    const held = [...this.heldBack.values()].filter((h) => h.topic === topic).map((h) => h.partition);
    if (held.length > 0) this.consumer.pause([{ topic, partitions: held }]);
  }
}
