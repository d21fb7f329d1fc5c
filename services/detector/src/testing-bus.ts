// A bus wrapper for detector tests that fails now and then, deterministically: every n-th send
// of a producer it made fails (before the messages land, or after: the ack is lost), and every
// n-th batch handed to a consumer it made fails (before the handler runs, or after it ran), so
// the batch is delivered again. Counts are per producer and per consumer, so every retry of a
// failed send or batch gets through: failures slow a service down, never stop it. And, while
// `unconfirmed` is set, its consumers claim no partitions while their batches keep coming.
import type { Batch, Bus, Consumer, ConsumerOptions, OutgoingMessage, Producer, ProducerOptions, TopicSpec } from '@grokstream/bus';

export interface Fault {
  every: number;
  when: 'before' | 'after';
}

export interface Faults {
  send?: Fault | null;
  batch?: Fault | null;
}

export class FaultyBus implements Bus {
  /** Failures injected so far. */
  readonly injected = { sends: 0, batches: 0 };

  constructor(
    private readonly inner: Bus,
    private readonly faults: Faults,
  ) {}

  get kind() {
    return this.inner.kind;
  }

  ensureTopics(specs: TopicSpec[]): Promise<void> {
    return this.inner.ensureTopics(specs);
  }

  partitionCount(topic: string): Promise<number> {
    return this.inner.partitionCount(topic);
  }

  endOffsets(topic: string) {
    return this.inner.endOffsets(topic);
  }

  async producer(options?: ProducerOptions): Promise<Producer> {
    const inner = await this.inner.producer(options);
    const fault = this.faults.send;
    let n = 0;
    return {
      // Not async: the inner send starts in the caller's tick, as a plain producer's does.
      send: (topic: string, messages: OutgoingMessage[]) => {
        const fail = fault != null && ++n % fault.every === 0;
        if (!fail) return inner.send(topic, messages);
        this.injected.sends++;
        if (fault.when === 'before') return Promise.reject(new Error(`injected: send ${n} failed before landing`));
        return inner.send(topic, messages).then(() => {
          throw new Error(`injected: send ${n} landed but its ack was lost`);
        });
      },
      close: () => inner.close(),
    };
  }

  /**
   * While true, the consumers this bus made report no partitions while their batches keep coming:
   * what a Kafka member sees between a coordinator move and the heartbeat that confirms its
   * generation (bus/group-membership.ts).
   */
  unconfirmed = false;

  consumer(options: ConsumerOptions): Consumer {
    const consumer = this.faultyConsumer(options);
    return {
      start: () => consumer.start(),
      pause: (topics) => consumer.pause(topics),
      resume: (topics) => consumer.resume(topics),
      seek: (topic, partition, offset) => consumer.seek(topic, partition, offset),
      assignment: () => (this.unconfirmed ? [] : consumer.assignment()),
      stop: () => consumer.stop(),
    };
  }

  private faultyConsumer(options: ConsumerOptions): Consumer {
    const fault = this.faults.batch;
    if (fault == null) return this.inner.consumer(options);
    let n = 0;
    return this.inner.consumer({
      ...options,
      handleBatch: async (batch: Batch) => {
        const fail = ++n % fault.every === 0;
        if (fail && fault.when === 'before') {
          this.injected.batches++;
          throw new Error(`injected: batch ${n} failed before its handler`);
        }
        await options.handleBatch(batch);
        if (fail) {
          this.injected.batches++;
          throw new Error(`injected: batch ${n} failed after its handler`);
        }
      },
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
