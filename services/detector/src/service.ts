// The detector service: the fact stream in (as a consumer group, so N instances share the runs
// by partition), PhaseChanged and StopRun out. It commits no offsets: every partition it is
// given is read from the beginning, and its runs' state rebuilt; when a partition is taken away
// its state goes. Each partition it holds has its own RunBook (the per-run bookkeeping replay
// uses too) and an outbox of outputs not yet published. Redelivered, repeated and re-read events
// are dropped per run (dropStale), and outputs already on the topics (read back continuously by
// PublishedOutputs) are not published again, so what reaches the topics is what a replay of the
// distinct events computes, whatever the rebalances, restarts and failures.
import { TOPICS, detectorProgress, type AnyEvent, type EventCodec } from '@grokstream/schemas';
import { EventPublisher, eventConsumer, type Batch, type Bus, type Consumer, type Producer, type ReceivedEvent } from '@grokstream/bus';
import type { DetectorOutput, RunDetectorOptions } from './detect-run.ts';
import { RunBook } from './run-book.ts';
import { PublishedOutputs } from './published-outputs.ts';

export interface DetectorServiceOptions extends RunDetectorOptions {
  bus: Bus;
  codec: EventCodec;
  groupId?: string;
  eventsTopic?: string;
  phasesTopic?: string;
  controlTopic?: string;
  onOutput?: (o: DetectorOutput) => void;
  log?: (line: string) => void;
}

export interface DetectorStats {
  /** Events handled, repeats included. */
  events: number;
  /** Runs with live state on the partitions held now. */
  activeRuns: number;
  phaseChanges: number;
  stops: number;
  /** Outputs computed again and not published, because they already were. */
  suppressed: number;
  /** DetectorProgress events published (for runs with a stop gate). */
  progress: number;
}

/** A partition of the fact stream this instance holds. */
interface Held {
  topic: string;
  partition: number;
  book: RunBook;
  /** Outputs computed and not yet published, in order. */
  outbox: DetectorOutput[];
  /** Offset after the last message handled. */
  next: number;
}

const key = (topic: string, partition: number) => `${topic}/${partition}`;

/** Whether a run's config (RunStarted.config_json) has a stop gate (run.stop_gate). */
export function stopGateOf(configJson: string): boolean {
  try {
    const run = (JSON.parse(configJson) as { run?: { stop_gate?: unknown } }).run;
    return run?.stop_gate !== undefined && run.stop_gate !== null;
  } catch {
    return false; // a config that is not JSON: no gate to serve (the trainer's own config is JSON)
  }
}

export class DetectorService {
  readonly stats: DetectorStats = { events: 0, activeRuns: 0, phaseChanges: 0, stops: 0, suppressed: 0, progress: 0 };
  /** Runs whose trainer has a stop gate (RunStarted's config, run.stop_gate): told how far the judging has got. */
  private readonly gated = new Set<string>();
  private readonly held = new Map<string, Held>();
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private publisher: EventPublisher | undefined;
  private published: PublishedOutputs | undefined;
  /** A pipeline failed: a bug, reported on every batch until fixed. */
  private failure: unknown;

  constructor(private readonly o: DetectorServiceOptions) {}

  private get phasesTopic(): string {
    return this.o.phasesTopic ?? TOPICS.phases;
  }

  private get controlTopic(): string {
    return this.o.controlTopic ?? TOPICS.control;
  }

  private get eventsTopic(): string {
    return this.o.eventsTopic ?? TOPICS.events;
  }

  async start(): Promise<void> {
    if (this.consumer) return;
    const o = this.o;
    this.failure = undefined;
    // Looked up now, so that the first StopRun leaves as quickly as any later one (bench:stop).
    this.producer = await o.bus.producer({ topics: [this.controlTopic, this.phasesTopic] });
    this.publisher = new EventPublisher(this.producer, o.codec);
    // What this detector already said, by this instance or any other, so it is not said twice.
    this.published = new PublishedOutputs(o.bus, o.codec, [this.phasesTopic, this.controlTopic], o.identity.detector);
    await this.published.start();
    this.consumer = eventConsumer(o.bus, {
      groupId: o.groupId ?? `grokstream-detector-${o.identity.detector}`,
      topics: [this.eventsTopic],
      fromBeginning: true,
      commit: false,
      codec: o.codec,
      deadLetters: this.producer,
      onAssignment: (assigned) => this.assign(assigned),
      handle: (events, batch) => this.handle(events, batch),
      onBatchDone: (batch, next) => {
        const h = this.held.get(key(batch.topic, batch.partition));
        if (h) h.next = Math.max(h.next, next);
      },
      onError: (err, batch) => o.log?.(`detector: batch ${batch.topic}/${batch.partition}@${batch.messages[0]?.offset} failed, to be redelivered: ${(err as Error).message}`),
    });
    await this.consumer.start();
    o.log?.(`detector ${o.identity.detector} ${o.identity.version}: consuming ${this.eventsTopic}`);
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = undefined;
    for (const h of this.held.values()) h.book.dispose();
    this.held.clear();
    this.stats.activeRuns = 0;
    await this.published?.stop();
    this.published = undefined;
    await this.producer?.close();
    this.producer = undefined;
  }

  /**
   * Events on the partitions of the fact stream this instance holds that it has not handled yet,
   * plus outputs not yet published
   * (0: every event sent so far has been judged and its phases and stops are on their topics).
   */
  async lag(): Promise<number> {
    if (this.failure !== undefined) throw this.failure instanceof Error ? this.failure : new Error(String(this.failure));
    let lag = 0;
    const ends = new Map((await this.o.bus.endOffsets(this.eventsTopic)).map((e) => [e.partition, Number(e.offset)]));
    for (const h of this.held.values()) lag += h.outbox.length + Math.max(0, (ends.get(h.partition) ?? 0) - h.next);
    return lag;
  }

  /** A new group generation: forget the partitions lost, rebuild the new ones from offset 0. */
  private assign(assigned: Array<{ topic: string; partition: number }>): void {
    const now = new Set(assigned.map((a) => key(a.topic, a.partition)));
    for (const [k, h] of this.held) {
      if (now.has(k)) continue;
      h.book.dispose();
      this.held.delete(k);
    }
    for (const { topic, partition } of assigned) {
      if (this.held.has(key(topic, partition))) continue; // kept: its state and read position go on together
      this.held.set(key(topic, partition), this.hold(topic, partition));
      this.consumer?.seek(topic, partition, '0');
    }
    this.countActive();
    this.o.log?.(`detector ${this.o.identity.detector}: holds ${[...now].sort().join(', ') || 'no partitions'}`);
    // A kept partition may have outputs it could not publish while it was briefly someone else's:
    // its last message comes again (stale by now), and that batch publishes them.
    for (const h of this.held.values()) if (h.outbox.length > 0 && h.next > 0) this.consumer?.seek(h.topic, h.partition, String(h.next - 1));
  }

  private async handle(events: ReceivedEvent[], batch: Batch): Promise<void> {
    const h = this.held.get(key(batch.topic, batch.partition));
    // Taken away since this batch was fetched: the next onAssignment drops it or reads it from 0.
    if (!h) return;
    for (const e of events) {
      this.stats.events++;
      h.book.push(e);
    }
    h.next = Number(batch.messages.at(-1)!.offset) + 1;
    this.countActive();
    if (this.failure !== undefined) throw this.failure;
    await this.flush(h);
    await this.announceProgress(events);
  }

  /**
   * After a batch's outputs are out: to each gated run in it, the last step judged (a
   * DetectorProgress on the control topic, after any StopRun of that step on the same partition),
   * so its trainer trains at most its gate's lag past the verdicts (docs/architecture.md, "Stops").
   */
  private async announceProgress(events: ReceivedEvent[]): Promise<void> {
    const through = new Map<string, number>();
    for (const e of events) {
      if (e.name === 'RunStarted' && stopGateOf(e.value.config_json)) this.gated.add(e.value.run_id);
      else if (e.name === 'RunFinished') this.gated.delete(e.value.run_id);
      else if (e.name === 'StepMetrics' && this.gated.has(e.value.run_id)) through.set(e.value.run_id, Math.max(through.get(e.value.run_id) ?? -1, e.value.step));
    }
    if (through.size === 0 || !this.publisher) return;
    const issuedBy = `${this.o.identity.detector} ${this.o.identity.version}`;
    await this.publisher.publish(
      this.controlTopic,
      [...through].map(([runId, step]) => ({ name: 'DetectorProgress' as const, value: detectorProgress({ runId, step, issuedBy }) })),
    );
    this.stats.progress += through.size;
  }

  private hold(topic: string, partition: number): Held {
    const h: Held = { topic, partition, book: undefined as unknown as RunBook, outbox: [], next: 0 };
    h.book = new RunBook(this.o, {
      output: (out) => h.outbox.push(out),
      error: (err) => {
        this.failure = err;
        this.o.log?.(`detector: a run pipeline failed (a bug; the partition stops here): ${(err as Error).stack ?? String(err)}`);
      },
    });
    return h;
  }

  private countActive(): void {
    let n = 0;
    for (const h of this.held.values()) n += h.book.activeRuns;
    this.stats.activeRuns = n;
  }

  /**
   * Publishes the partition's outbox, less what is already on the topics. Throws when a send
   * fails: the batch comes again, its events are stale by then, and the outbox is tried again.
   */
  private async flush(h: Held): Promise<void> {
    if (h.outbox.length === 0 || !this.published || !this.publisher) return;
    await this.published.ready();
    // No await from here to the sends: every output another member published for this partition
    // is known now, and none can be published by anyone else while this member holds it.
    // Not confirmed as this member's (a rebalance, or a coordinator that moved): publish nothing,
    // and have the batch come again, so the outbox goes out once the partition is confirmed (or
    // is dropped by the next assignment). Returning quietly here held a detector's verdicts back
    // for good when kafkajs never rejoined (bus/group-membership.ts).
    if (!this.consumer?.assignment().some((a) => a.topic === h.topic && a.partition === h.partition)) {
      throw new Error(`${h.outbox.length} outputs of ${h.topic}/${h.partition} held back: this member's hold on the partition is not confirmed (the group is rebalancing, or its coordinator moved); the batch comes again`);
    }
    const fresh = h.outbox.filter((out) => !this.published!.has(out.value.event_id));
    this.stats.suppressed += h.outbox.length - fresh.length;
    h.outbox = fresh;
    if (fresh.length === 0) return;
    const published = this.published;
    const publisher = this.publisher;
    const send = async (topic: string, outs: DetectorOutput[]): Promise<DetectorOutput[]> => {
      if (outs.length === 0) return outs;
      await publisher.publish(topic, outs as AnyEvent[]);
      published.sent(topic, outs.map((x) => x.value.event_id));
      return outs;
    };
    const results = await Promise.allSettled([
      send(this.phasesTopic, fresh.filter((x) => x.name === 'PhaseChanged')),
      send(this.controlTopic, fresh.filter((x) => x.name === 'StopRun')),
    ]);
    const done = new Set(results.flatMap((r) => (r.status === 'fulfilled' ? r.value : [])));
    h.outbox = h.outbox.filter((x) => !done.has(x));
    for (const out of fresh) {
      if (!done.has(out)) continue;
      if (out.name === 'PhaseChanged') this.stats.phaseChanges++;
      else this.stats.stops++;
      this.o.onOutput?.(out);
    }
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      published.unsure();
      throw failed.reason;
    }
  }
}
