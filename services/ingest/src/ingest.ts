// The ingest service: bus -> projection -> store. One consumer group per store; offsets are
// committed only after the rows are in the store, so a crash re-delivers and the store's
// ReplacingMergeTree keys collapse the repeats (at-least-once delivery, exactly-once results).
import { TOPICS, type EventCodec, type EventName } from '@grokstream/schemas';
import { consumerLag, eventConsumer, type Bus, type Consumer, type Producer } from '@grokstream/bus';
import type { Store } from '@grokstream/store';
import { projectBatch } from './projection.ts';

export interface IngestOptions {
  bus: Bus;
  store: Store;
  codec: EventCodec;
  /** Where undecodable messages are sent (they are also ingested from there). */
  deadLetters: Producer;
  deadLetterTopic?: string;
  groupId?: string;
  topics?: string[];
  fromBeginning?: boolean;
  onError?: (err: unknown) => void;
  /** Dead-letter trouble and consumer restarts are reported here (default stderr). */
  log?: (line: string) => void;
}

export interface IngestStats {
  batches: number;
  events: number;
  rows: number;
  deadLetters: number;
  failures: number;
}

export const INGEST_TOPICS = [TOPICS.events, TOPICS.phases, TOPICS.control, TOPICS.deadLetter];
/**
 * What those topics carry; anything else found there is dead-lettered, not stored. A
 * DetectorProgress (flow control for a trainer's stop gate, on the control topic) is taken and
 * not stored (projection.ts).
 */
export const INGEST_EVENTS: ReadonlySet<EventName> = new Set(['RunStarted', 'StepMetrics', 'ProbeSummary', 'Checkpointed', 'RunFinished', 'PhaseChanged', 'StopRun', 'DeadLetter', 'DetectorProgress']);

export class Ingest {
  readonly stats: IngestStats = { batches: 0, events: 0, rows: 0, deadLetters: 0, failures: 0 };
  private readonly consumer: Consumer;
  /** topic/partition -> the offset after the last message stored. */
  private readonly positions = new Map<string, number>();

  constructor(private readonly options: IngestOptions) {
    const { store } = options;
    this.consumer = eventConsumer(options.bus, {
      groupId: options.groupId ?? `grokstream-ingest-${store.kind}-${store.database}`,
      topics: options.topics ?? INGEST_TOPICS,
      fromBeginning: options.fromBeginning ?? true,
      codec: options.codec,
      accepts: INGEST_EVENTS,
      deadLetters: options.deadLetters,
      deadLetterTopic: options.deadLetterTopic,
      onDeadLetter: () => this.stats.deadLetters++,
      log: options.log,
      onCrash: options.log
        ? (err, restart) => options.log!(`ingest: the consumer lost Kafka (${err.message})${restart ? '; it reconnects by itself' : ''}`)
        : undefined,
      onBatchDone: (batch, next) => this.positions.set(`${batch.topic}/${batch.partition}`, next),
      onError: (err) => {
        this.stats.failures++;
        options.onError?.(err);
      },
      handle: async (events) => {
        const byTable = projectBatch(events);
        for (const [table, rows] of byTable) {
          await store.insert(table, rows);
          this.stats.rows += rows.length;
        }
        this.stats.batches++;
        this.stats.events += events.length;
      },
    });
  }

  async start(): Promise<void> {
    await this.options.store.migrate();
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
  }

  /** Messages on the ingest topics not stored yet by this instance (0: everything sent so far is in the store). */
  lag(): Promise<number> {
    return consumerLag(this.options.bus, this.options.topics ?? INGEST_TOPICS, (t, p) => this.positions.get(`${t}/${p}`));
  }
}
