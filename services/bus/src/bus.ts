// The bus contract. Three implementations honour it (Kafka, in-process, and a remote bus that
// forwards to another process's); one contract suite (bus.contract.ts) runs against each, so the
// embedded mode behaves like the stack.

export interface OutgoingMessage {
  /** Partitioning key: a run's events share a key, so they stay in order in one partition. */
  key: string | null;
  value: Buffer;
}

export interface BusMessage {
  topic: string;
  partition: number;
  /** Kafka offsets are 64-bit; kept as decimal strings as kafkajs does. */
  offset: string;
  key: Buffer | null;
  value: Buffer;
  timestamp: number;
}

/** Messages of one partition, in offset order. */
export interface Batch {
  topic: string;
  partition: number;
  messages: BusMessage[];
  /**
   * Aborted while the batch is being handled when this member must give its partition up: the
   * consumer is stopping, or the group is rebalancing (a member joined or died). A long handler (a
   * worker training a sweep point) checkpoints and throws then, so its batch is not committed and
   * comes again wherever the partition goes; it must do so within the rebalance timeout (~20 s
   * on Kafka). Until then the consumer keeps its membership alive (Kafka: heartbeats).
   */
  signal?: AbortSignal;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /**
   * Topic-level settings for a topic this call creates, as Kafka names them. Both buses honour
   * `max.message.bytes` (the largest record batch the topic accepts; Kafka's default is
   * 1048588). On an existing topic only a lower `max.message.bytes` is raised to this one.
   */
  config?: Record<string, string>;
}

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  /** Where a group with no committed offset starts: the beginning, or only new messages (default). */
  fromBeginning?: boolean;
  /**
   * Commit offsets after each batch (default true). A consumer that rebuilds its state by
   * reading from the beginning after every restart (the detector) turns this off.
   */
  commit?: boolean;
  /**
   * Processes one batch. Offsets are committed only after it resolves; if it throws, the batch
   * is delivered again (at-least-once), after onError is told.
   */
  handleBatch: (batch: Batch) => Promise<void>;
  onError?: (err: unknown, batch: Batch) => void;
  /**
   * How long to hold a partition back before its failed batch comes again, given how many times
   * in a row its batches failed (1 for the first). Undefined keeps the bus's short default
   * (Kafka 200 ms, memory 50 ms). Other partitions keep flowing while one waits.
   */
  retryDelayMs?: (failures: number, err: unknown) => number | undefined;
  /**
   * This member took part in a rebalance (or joined): `assigned` is what it holds now. Called once
   * per group generation, and awaited before the next batch is handled, so a consumer can drop
   * the state of partitions it lost and re-read what it needs before it goes on.
   */
  onAssignment?: (assigned: Array<{ topic: string; partition: number }>) => void | Promise<void>;
  /** The client itself failed (Kafka: a consumer crash); restart says whether it recovers by itself. */
  onCrash?: (err: Error, restart: boolean) => void;
}

export interface Consumer {
  /** Resolves once the consumer has joined its group and holds its partitions. */
  start(): Promise<void>;
  pause(topics?: string[]): void;
  resume(topics?: string[]): void;
  /** Moves this consumer's position on a partition it holds; the next batch starts there. */
  seek(topic: string, partition: number, offset: string): void;
  /** The partitions this member holds now (empty before start and during a rebalance). */
  assignment(): Array<{ topic: string; partition: number }>;
  /** Stops after the batch in flight is processed and committed, and leaves the group. */
  stop(): Promise<void>;
}

export interface Producer {
  /**
   * Resolves when every message is durably accepted (Kafka: acks=all, idempotent). Many
   * messages go out as several requests, each under the bus's request size, one after the
   * other in the given order (so each key keeps its order). A message larger than the topic
   * accepts fails with RecordTooLargeError before anything is sent; a failure part way
   * through is a SendError that says how many leading messages were accepted.
   */
  send(topic: string, messages: OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface ProducerOptions {
  topics?: string[];
}

export interface Bus {
  /** remote: another process's bus, reached through a channel (remote-bus.ts). */
  readonly kind: 'kafka' | 'memory' | 'remote';
  /** Creates missing topics; existing topics are left as they are. */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  /** Number of partitions of a topic; 0 when it does not exist. */
  partitionCount(topic: string): Promise<number>;
  /** Offset after the last message of each partition (the "high watermark"). */
  endOffsets(topic: string): Promise<Array<{ partition: number; offset: string }>>;
  /**
   * A producer. `topics`: where it will send, looked up now (on Kafka, each topic's size limit)
   * so that its first send is as quick as the later ones: a detector's first StopRun.
   */
  producer(options?: ProducerOptions): Promise<Producer>;
  consumer(options: ConsumerOptions): Consumer;
  close(): Promise<void>;
}
