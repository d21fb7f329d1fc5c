// The detector service: the fact stream in (as a consumer group, so N instances share the runs
// by partition), PhaseChanged and StopRun out. Per-run state is bounded and dropped when a run
// finishes. It commits no offsets: after a restart it reads its partitions from the beginning
// and rebuilds every run's state; outputs are deterministic, and those it already published
// (read back from the phases and control topics at start) are not published again.
import { Subject, type Subscription } from 'rxjs';
import { TOPICS, type EventCodec } from '@grokstream/schemas';
import { EventPublisher, eventConsumer, readAll, type Bus, type Consumer, type Producer } from '@grokstream/bus';
import { detectRun, type DetectorOutput, type RunDetectorOptions } from './detect-run.ts';
import type { AnyEvent } from '@grokstream/schemas';

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
  events: number;
  activeRuns: number;
  phaseChanges: number;
  stops: number;
  suppressed: number;
}

interface RunPipeline {
  input: Subject<AnyEvent>;
  subscription: Subscription;
}

export class DetectorService {
  readonly stats: DetectorStats = { events: 0, activeRuns: 0, phaseChanges: 0, stops: 0, suppressed: 0 };
  private readonly runs = new Map<string, RunPipeline>();
  private readonly published = new Set<string>();
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;

  constructor(private readonly o: DetectorServiceOptions) {}

  async start(): Promise<void> {
    const o = this.o;
    const phasesTopic = o.phasesTopic ?? TOPICS.phases;
    const controlTopic = o.controlTopic ?? TOPICS.control;
    this.producer = await o.bus.producer();
    // What this detector already said, so a restart does not say it twice.
    for (const m of await readAll(o.bus, [phasesTopic, controlTopic])) {
      try {
        const e = o.codec.decode(m.value);
        if (e.name === 'PhaseChanged' && e.value.detector === o.identity.detector) this.published.add(e.value.event_id);
        if (e.name === 'StopRun') this.published.add(e.value.event_id);
      } catch {
        // Undecodable records on these topics are the dead-letter path's business, not ours.
      }
    }
    const publisher = new EventPublisher(this.producer, o.codec);
    this.consumer = eventConsumer(o.bus, {
      groupId: o.groupId ?? `grokstream-detector-${o.identity.detector}`,
      topics: [o.eventsTopic ?? TOPICS.events],
      fromBeginning: true,
      commit: false,
      codec: o.codec,
      deadLetters: this.producer,
      handle: async (events) => {
        const outputs: DetectorOutput[] = [];
        for (const e of events) {
          this.stats.events++;
          this.pipeline(e.value.run_id, outputs).input.next(e);
          if (e.name === 'RunFinished') this.finish(e.value.run_id);
        }
        const fresh = outputs.filter((out) => !this.published.has(out.value.event_id));
        this.stats.suppressed += outputs.length - fresh.length;
        const phases = fresh.filter((x) => x.name === 'PhaseChanged');
        const stops = fresh.filter((x) => x.name === 'StopRun');
        if (phases.length > 0) await publisher.publish(phasesTopic, phases);
        if (stops.length > 0) await publisher.publish(controlTopic, stops);
        for (const out of fresh) {
          this.published.add(out.value.event_id);
          if (out.name === 'PhaseChanged') this.stats.phaseChanges++;
          else this.stats.stops++;
          o.onOutput?.(out);
        }
      },
    });
    await this.consumer.start();
    o.log?.(`detector ${o.identity.detector} ${o.identity.version}: consuming ${o.eventsTopic ?? TOPICS.events}`);
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
    for (const id of [...this.runs.keys()]) this.finish(id);
    await this.producer?.close();
  }

  /** The run's pipeline; its outputs for the batch in hand go into `sink`. */
  private pipeline(runId: string, sink: DetectorOutput[]): RunPipeline {
    let p = this.runs.get(runId);
    if (!p) {
      const input = new Subject<AnyEvent>();
      const subscription = input.pipe(detectRun(this.o)).subscribe((out) => this.currentSink.push(out));
      p = { input, subscription };
      this.runs.set(runId, p);
      this.stats.activeRuns = this.runs.size;
    }
    this.currentSink = sink;
    return p;
  }

  private currentSink: DetectorOutput[] = [];

  private finish(runId: string): void {
    const p = this.runs.get(runId);
    if (!p) return;
    p.input.complete();
    p.subscription.unsubscribe();
    this.runs.delete(runId);
    this.stats.activeRuns = this.runs.size;
  }
}
