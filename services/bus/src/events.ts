// Typed events over the raw bus: encode on publish; decode on consume, routing anything that
// cannot be decoded to the dead-letter topic with its reason and original bytes.
import { DecodeError, EventCodec, TOPICS, newEventId, type AnyEvent, type DeadLetter } from '@grokstream/schemas';
import type { Batch, Bus, BusMessage, Consumer, ConsumerOptions, Producer } from './bus.ts';

export type ReceivedEvent = AnyEvent & {
  writer: string;
  topic: string;
  partition: number;
  offset: string;
};

export class EventPublisher {
  constructor(
    private readonly producer: Producer,
    private readonly codec: EventCodec,
  ) {}

  /** Encodes and sends in one request; each event is keyed by its run_id. */
  async publish(topic: string, events: AnyEvent[]): Promise<void> {
    await this.producer.send(
      topic,
      events.map((e) => ({ key: e.value.run_id, value: this.codec.encode(e.name, e.value as never) })),
    );
  }
}

export interface EventConsumerOptions {
  groupId: string;
  topics: string[];
  fromBeginning?: boolean;
  /** See ConsumerOptions.commit. */
  commit?: boolean;
  codec: EventCodec;
  /** Where undecodable messages go; the consumer carries on after sending them. */
  deadLetters: Producer;
  deadLetterTopic?: string;
  handle: (events: ReceivedEvent[], batch: Batch) => Promise<void>;
  onDeadLetter?: (letter: DeadLetter) => void;
  onError?: (err: unknown, batch: Batch) => void;
  /** See ConsumerOptions.onAssignment. */
  onAssignment?: ConsumerOptions['onAssignment'];
}

export function deadLetterFor(message: BusMessage, err: DecodeError, consumer: string): DeadLetter {
  return {
    event_id: newEventId(),
    run_id: message.key?.toString('utf8') ?? '',
    // Dead letters have no run sequence of their own: the source offset orders them per partition.
    seq: Number(message.offset),
    ts: Date.now(),
    source_topic: message.topic,
    source_partition: message.partition,
    source_offset: Number(message.offset),
    key: message.key,
    payload: message.value,
    error_kind: err.kind,
    reason: err.message,
    consumer,
  };
}

export function eventConsumer(bus: Bus, options: EventConsumerOptions): Consumer {
  const { codec, groupId } = options;
  const dlt = options.deadLetterTopic ?? TOPICS.deadLetter;
  return bus.consumer({
    groupId,
    topics: options.topics,
    fromBeginning: options.fromBeginning,
    commit: options.commit,
    onError: options.onError,
    onAssignment: options.onAssignment,
    handleBatch: async (batch) => {
      const events: ReceivedEvent[] = [];
      const letters: DeadLetter[] = [];
      for (const m of batch.messages) {
        try {
          const decoded = codec.decode(m.value);
          events.push({ ...decoded, topic: m.topic, partition: m.partition, offset: m.offset } as ReceivedEvent);
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
          letters.push(deadLetterFor(m, err, groupId));
        }
      }
      // Dead letters are written before the batch is processed and committed: none is lost,
      // and a redelivered batch writes them again with the same source offsets (dedup key).
      if (letters.length > 0) {
        await options.deadLetters.send(
          dlt,
          letters.map((l) => ({ key: l.run_id || null, value: codec.encode('DeadLetter', l) })),
        );
        for (const l of letters) options.onDeadLetter?.(l);
      }
      if (events.length > 0) await options.handle(events, batch);
    },
  });
}
