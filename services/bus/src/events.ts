// Typed events over the raw bus: encode on publish; decode on consume, routing anything that
// cannot be decoded to the dead-letter topic with its reason and original bytes, once per group.
import { DecodeError, EventCodec, TOPICS, type AnyEvent, type DeadLetter, type EventName } from '@grokstream/schemas';
import type { Batch, Bus, BusMessage, Consumer, ConsumerOptions, OutgoingMessage, Producer } from './bus.ts';
import { DeadLetterMemory, deadLetterId } from './dead-letter-memory.ts';
import { scanAll } from './read-all.ts';
import { RecordTooLargeError, SendError, singleRecordBatchBytes } from './request-size.ts';

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

  /** Encodes and sends (split into requests under the bus's size limit); each event is keyed by its run_id. */
  async publish(topic: string, events: AnyEvent[]): Promise<void> {
    await this.send(topic, this.encode(events));
  }

  /** The messages publish() sends for these events (CPU only: a caller may encode ahead; throws EncodeError). */
  encode(events: AnyEvent[]): OutgoingMessage[] {
    return events.map((e) => ({ key: e.value.run_id, value: this.codec.encode(e.name, e.value as never) }));
  }

  /** Sends messages encode() made, in order. */
  async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    await this.producer.send(topic, messages);
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
  /** Called once for each letter written to the dead-letter topic. */
  onDeadLetter?: (letter: DeadLetter) => void;
  /**
   * Called for a bad message whose letter this group has already written (a batch delivered
   * again, or re-read after a restart): no second letter is sent.
   */
  onDeadLetterSkipped?: (source: { topic: string; partition: number; offset: string }) => void;
  onError?: (err: unknown, batch: Batch) => void;
  /**
   * Called once a batch is fully processed (its letters written and its events handled), with
   * the offset after its last message: how a caller knows how far it has read (Ingest.lag).
   */
  onBatchDone?: (batch: Batch, next: number) => void;
  /** See ConsumerOptions.onAssignment. */
  onAssignment?: ConsumerOptions['onAssignment'];
  /** See ConsumerOptions.onCrash. */
  onCrash?: ConsumerOptions['onCrash'];
  /** How long a batch whose handler failed waits before it comes again (see ConsumerOptions.retryDelayMs). */
  retryDelayMs?: ConsumerOptions['retryDelayMs'];
  /**
   * The events this consumer's topics carry; any other (a SweepPoint on the events topic) is
   * dead-lettered as 'unexpected-event', as an undecodable message is. Default: every event.
   */
  accepts?: ReadonlySet<EventName>;
  /**
   * Refuses an event this consumer cannot ever handle, however often it comes (a SweepPoint whose
   * config does not resolve): the reason it returns dead-letters it as 'invalid-event', instead
   * of failing its batch for ever. Undefined: the event is handled. Errors it throws fail the
   * batch as the handler's would.
   */
  check?: (event: AnyEvent) => string | undefined;
  /** Where a failing dead-letter write is reported, one line each time (default console.error). */
  log?: (line: string) => void;
  /** Wait before retrying a failed dead-letter write: doubles from initialMs up to maxMs (default 200 ms to 30 s). */
  deadLetterBackoff?: { initialMs?: number; maxMs?: number };
  /**
   * Read the letters this group already wrote back from the dead-letter topic at start, so a
   * restart (above all of a consumer that reads from the beginning) writes none again
   * (default true). A group that is new at every start (a random group id) has none to find.
   */
  seedFromDeadLetters?: boolean;
  /** How many dead-lettered source offsets the group remembers (default 100,000; see DeadLetterMemory). */
  deadLetterMemory?: number;
}

export interface EventConsumerStats {
  /** Letters written to the dead-letter topic. */
  deadLetters: number;
  /** Bad messages delivered again whose letter had already been written: none was sent. */
  deadLettersSkipped: number;
  /** Failed attempts to write a batch's letters. */
  deadLetterWriteFailures: number;
  /** This group's letters found in the dead-letter topic at start. */
  deadLettersSeeded: number;
}

export interface EventConsumer extends Consumer {
  readonly stats: EventConsumerStats;
}

/** The batch's letters could not be written; the batch is held back for retryAfterMs, then comes again. */
export class DeadLetterWriteError extends Error {
  override readonly name = 'DeadLetterWriteError';
  constructor(
    message: string,
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function deadLetterFor(message: BusMessage, err: DecodeError, consumer: string): DeadLetter {
  return {
    // The same id whenever this group gives up on this message: stores keep one.
    event_id: deadLetterId(consumer, message.topic, message.partition, message.offset),
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

/** Exponential backoff: initialMs, doubled per failure in a row, capped at maxMs. */
export function backoffDelay(failures: number, initialMs = 200, maxMs = 30_000): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
}

function encodeLetter(codec: EventCodec, l: DeadLetter): OutgoingMessage {
  return { key: l.run_id || null, value: codec.encode('DeadLetter', l) };
}

/**
 * A letter too big for the dead-letter topic would block its partition forever. It goes out with
 * the payload cut to fit and the reason saying so: loud, never silent.
 */
export function fitLetter(codec: EventCodec, letter: DeadLetter, limit: number): DeadLetter {
  const original = letter.payload.length;
  let fitted = letter;
  for (let excess = singleRecordBatchBytes(encodeLetter(codec, letter)) - limit; excess > 0; ) {
    const keep = Math.max(0, fitted.payload.length - excess - 256);
    fitted = {
      ...letter,
      payload: letter.payload.subarray(0, keep),
      reason: `${letter.reason} [payload cut from ${original} to its first ${keep} bytes: the dead-letter topic takes at most ${limit} bytes a message]`,
    };
    excess = singleRecordBatchBytes(encodeLetter(codec, fitted)) - limit;
    if (keep === 0 && excess > 0) break; // the key or reason alone is too big: let the send fail loudly
  }
  return fitted;
}

export function eventConsumer(bus: Bus, options: EventConsumerOptions): EventConsumer {
  const { codec, groupId } = options;
  const dlt = options.deadLetterTopic ?? TOPICS.deadLetter;
  const log = options.log ?? ((line: string) => console.error(line));
  const backoff = { initialMs: options.deadLetterBackoff?.initialMs ?? 200, maxMs: options.deadLetterBackoff?.maxMs ?? 30_000 };
  const written = new DeadLetterMemory(options.deadLetterMemory);
  const stats: EventConsumerStats = { deadLetters: 0, deadLettersSkipped: 0, deadLetterWriteFailures: 0, deadLettersSeeded: 0 };
  let failuresInARow = 0;

  const markWritten = (letters: DeadLetter[]) => {
    for (const l of letters) {
      written.add(l.source_topic, l.source_partition, l.source_offset);
      stats.deadLetters++;
      options.onDeadLetter?.(l);
    }
  };

  /** Sends the letters, in order; those accepted before a failure are remembered as written. */
  const sendLetters = async (letters: DeadLetter[]) => {
    let rest = letters;
    let fitted = false;
    for (;;) {
      try {
        await options.deadLetters.send(dlt, rest.map((l) => encodeLetter(codec, l)));
        markWritten(rest);
        return;
      } catch (err) {
        if (err instanceof SendError) markWritten(rest.slice(0, err.delivered));
        if (err instanceof RecordTooLargeError && err.topic === dlt && !fitted) {
          fitted = true;
          rest = rest.map((l) => fitLetter(codec, l, err.limit));
          continue;
        }
        throw err;
      }
    }
  };

  const writeLetters = async (letters: DeadLetter[], batch: Batch, goodEvents: number) => {
    try {
      await sendLetters(letters);
    } catch (err) {
      failuresInARow++;
      stats.deadLetterWriteFailures++;
      const delay = backoffDelay(failuresInARow, backoff.initialMs, backoff.maxMs);
      const first = batch.messages[0]!.offset;
      const last = batch.messages[batch.messages.length - 1]!.offset;
      const unsent = letters.filter((l) => !written.has(l.source_topic, l.source_partition, l.source_offset)).length;
      log(
        `[grokstream bus] group ${groupId}: cannot write ${unsent} dead letters to ${dlt} ` +
          `(failure ${failuresInARow} in a row): ${(err as Error).message ?? String(err)}. ` +
          `Batch ${batch.topic}/${batch.partition} offsets ${first}-${last} is held back and comes again in ` +
          `${delay / 1000} s; its ${goodEvents} good events wait and none is lost.`,
      );
      throw new DeadLetterWriteError(`cannot write ${unsent} dead letters to ${dlt}: ${(err as Error).message}`, delay, { cause: err });
    }
    if (failuresInARow > 0) {
      log(`[grokstream bus] group ${groupId}: dead letters to ${dlt} are written again, after ${failuresInARow} failed attempts.`);
      failuresInARow = 0;
    }
  };

  const inner = bus.consumer({
    groupId,
    topics: options.topics,
    fromBeginning: options.fromBeginning,
    commit: options.commit,
    onError: options.onError,
    onAssignment: options.onAssignment,
    onCrash: options.onCrash,
    retryDelayMs: (failures, err) => (err instanceof DeadLetterWriteError ? err.retryAfterMs : options.retryDelayMs?.(failures, err)),
    handleBatch: async (batch) => {
      const events: ReceivedEvent[] = [];
      const letters: DeadLetter[] = [];
      for (const m of batch.messages) {
        try {
          const decoded = codec.decode(m.value);
          if (options.accepts && !options.accepts.has(decoded.name)) {
            throw new DecodeError('unexpected-event', `a ${decoded.name} on ${m.topic}, where ${groupId} takes ${[...options.accepts].join(', ')}`);
          }
          const refused = options.check?.(decoded as AnyEvent);
          if (refused !== undefined) throw new DecodeError('invalid-event', `a ${decoded.name} that ${groupId} refuses: ${refused}`);
          // Built field by field: an object spread here cost about 3 µs an event, a third of
          // the consumer's time (foundation bench, the two-process bus figure).
          events.push({ name: decoded.name, value: decoded.value, writer: decoded.writer, topic: m.topic, partition: m.partition, offset: m.offset } as ReceivedEvent);
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
          if (written.has(m.topic, m.partition, m.offset)) {
            stats.deadLettersSkipped++;
            options.onDeadLetterSkipped?.({ topic: m.topic, partition: m.partition, offset: m.offset });
          } else {
            letters.push(deadLetterFor(m, err, groupId));
          }
        }
      }
      // Letters are written before the batch is processed and committed: none is lost. If they
      // cannot be, the whole batch comes again later (its good events too: at-least-once).
      if (letters.length > 0) await writeLetters(letters, batch, events.length);
      if (events.length > 0) await options.handle(events, batch);
      options.onBatchDone?.(batch, Number(batch.messages[batch.messages.length - 1]!.offset) + 1);
    },
  });

  /** The letters this group wrote before (an earlier run of it), read back from the topic itself. */
  const seed = async () => {
    const sources = new Set(options.topics);
    await scanAll(bus, [dlt], (m) => {
      let decoded: ReturnType<EventCodec['decode']>;
      try {
        decoded = codec.decode(m.value);
      } catch {
        return; // not a letter we can read: not ours to remember
      }
      if (decoded.name !== 'DeadLetter' || decoded.value.consumer !== groupId || !sources.has(decoded.value.source_topic)) return;
      const l = decoded.value;
      if (!written.has(l.source_topic, l.source_partition, l.source_offset)) stats.deadLettersSeeded++;
      written.add(l.source_topic, l.source_partition, l.source_offset);
    });
  };

  let seeded = false;
  return {
    stats,
    start: async () => {
      if (!seeded && options.seedFromDeadLetters !== false) {
        await seed();
        seeded = true;
      }
      await inner.start();
    },
    pause: (topics) => inner.pause(topics),
    resume: (topics) => inner.resume(topics),
    seek: (topic, partition, offset) => inner.seek(topic, partition, offset),
    assignment: () => inner.assignment(),
    stop: () => inner.stop(),
  };
}
