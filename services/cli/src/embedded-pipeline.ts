// The embedded pipeline: what the stack's services do, in one process on the in-process bus.
// The detector service judges every event and publishes PhaseChanged and StopRun on their topics
// (a trainer on the same bus obeys its StopRuns through its control listener, as over Kafka), and
// the ingest service projects every topic into the store. `grokstream run` with nothing
// configured and `grokstream import` use it (docs/architecture.md, "Flow").
import { MemoryBus, standardTopics } from '@grokstream/bus';
import { EventCodec } from '@grokstream/schemas';
import { DetectorService, type DetectorOutput, type RunDetectorOptions } from '@grokstream/detector';
import { Ingest } from '@grokstream/ingest';
import type { Store } from '@grokstream/store';

export interface PipelineOptions {
  /** The detector's options (detectorOptions(loadDetectorConfig(...))); none: no detector. */
  detector?: RunDetectorOptions;
  /** Where ingest writes; none: nothing is stored. */
  store?: Store;
  onOutput?: (o: DetectorOutput) => void;
  log: (line: string) => void;
}

export interface PhaseMark {
  phase: string;
  step: number;
}

export interface RunOutcome {
  /** Every phase the detector entered, in order. */
  phases: PhaseMark[];
  /** The stop the detector sent, if any. */
  stop?: { step: number; policy: string; reason: string };
}

export class EmbeddedPipeline {
  readonly bus = new MemoryBus(1);
  readonly codec = EventCodec.load();
  private detector: DetectorService | undefined;
  private ingest: Ingest | undefined;
  private readonly outcomes = new Map<string, RunOutcome>();

  constructor(private readonly o: PipelineOptions) {}

  async start(): Promise<void> {
    await this.bus.ensureTopics(standardTopics(1));
    if (this.o.store) {
      this.ingest = new Ingest({
        bus: this.bus,
        store: this.o.store,
        codec: this.codec,
        deadLetters: await this.bus.producer(),
        onError: (err) => this.o.log(`ingest: a batch failed, retried: ${(err as Error).message}`),
        log: this.o.log,
      });
      await this.ingest.start();
    }
    if (this.o.detector) {
      this.detector = new DetectorService({
        ...this.o.detector,
        bus: this.bus,
        codec: this.codec,
        onOutput: (out) => {
          this.record(out);
          this.o.onOutput?.(out);
        },
        log: (line) => {
          if (!line.startsWith('detector ')) this.o.log(line); // start-up and assignment lines are noise here
        },
      });
      await this.detector.start();
    }
  }

  /** The current phase of a run (undefined before the detector's first verdict). */
  phaseOf(runId: string): string | undefined {
    return this.outcomes.get(runId)?.phases.at(-1)?.phase;
  }

  outcome(runId: string): RunOutcome {
    return this.outcomes.get(runId) ?? { phases: [] };
  }

  /**
   * Waits until the detector has judged every event sent so far and ingest has stored every
   * message, including the detector's own outputs; throws after `timeoutMs` naming what lags.
   */
  async drain(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let quiet = 0;
    for (;;) {
      const detecting = (await this.detector?.lag()) ?? 0;
      const storing = (await this.ingest?.lag()) ?? 0;
      // Twice in a row: the last outputs published may still be on their way into the store.
      if (detecting === 0 && storing === 0 && ++quiet >= 2) return;
      if (detecting > 0 || storing > 0) quiet = 0;
      if (Date.now() > deadline) {
        throw new Error(`the embedded pipeline did not catch up in ${timeoutMs / 1000} s: detector ${detecting} behind, ingest ${storing} behind`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    await this.detector?.stop();
    await this.ingest?.stop();
    await this.bus.close();
  }

  private record(out: DetectorOutput): void {
    const runId = out.value.run_id;
    const o = this.outcomes.get(runId) ?? { phases: [] };
    this.outcomes.set(runId, o);
    if (out.name === 'PhaseChanged') o.phases.push({ phase: out.value.phase, step: out.value.step });
    else o.stop ??= { step: out.value.step, policy: out.value.policy, reason: out.value.reason };
  }
}
