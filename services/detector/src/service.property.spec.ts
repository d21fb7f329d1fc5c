// Property: whatever happens on the way (events sent again, detectors joining and leaving the
// group, restarts, sends and batches failing), the phases and control topics end up holding
// exactly what a replay of the distinct events computes: per run, the same events with the same
// ids in the same order, and nothing twice. On the in-process bus, with several partitions.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TOPICS, type AnyEvent } from '@grokstream/schemas';
import { EventPublisher, MemoryBus, standardTopics, waitUntil } from '@grokstream/bus';
import { DetectorService } from './service.ts';
import { replayEvents } from './replay.ts';
import { detectorOptions, parseDetectorConfig } from './config.ts';
import { syntheticRun, type SyntheticRunSpec } from './testing-runs.ts';
import { FaultyBus, type Faults } from './testing-bus.ts';
import { byRun, codec, onTopics, outputCount, stopQuickly } from './testing-service.ts';

// Short windows, so runs of a few hundred steps go through several phases and most get a stop.
const options = detectorOptions(
  parseDetectorConfig(
    {
      detector: { name: 'property', version: '1' },
      phases: { warmup_steps: 5, window: 20, plateau_steps: 40, confirm_steps: 3 },
      policies: [{ kind: 'divergence' }, { kind: 'converged', steps: 30 }],
    },
    'test',
  ),
);

type RunShape = Omit<SyntheticRunSpec, 'runId'>;

const runShape: fc.Arbitrary<RunShape> = fc
  .record({
    steps: fc.integer({ min: 100, max: 300 }),
    memorizeBy: fc.integer({ min: 20, max: 80 }),
    grokAt: fc.option(fc.integer({ min: 60, max: 220 }), { nil: null }),
    divergeAt: fc.option(fc.integer({ min: 40, max: 290 }), { nil: null, freq: 3 }),
    probeEvery: fc.constantFrom(0, 7),
    checkpointEvery: fc.constantFrom(0, 25),
    ending: fc.oneof(
      fc.constant({ kind: 'completed' as const }),
      fc.constant({ kind: 'unfinished' as const }),
      fc.record({ kind: fc.constant('crash-resume' as const), atPercent: fc.integer({ min: 10, max: 95 }) }),
      fc.record({ kind: fc.constant('interrupted-resume' as const), atPercent: fc.integer({ min: 10, max: 95 }) }),
    ),
  })
  .map(({ ending, ...rest }): RunShape => ({
    ...rest,
    ending: 'atPercent' in ending ? { kind: ending.kind, at: Math.max(1, Math.floor((rest.steps * ending.atPercent) / 100)) } : ending,
  }));

type Action =
  /** The next `count` events of a run, as its trainer sends them. */
  | { kind: 'emit'; run: number; count: number }
  /** Sends again `count` events of a run from `back` events before the last one sent (exact duplicates). */
  | { kind: 'resend'; run: number; back: number; count: number }
  /** A new detector instance joins the group. */
  | { kind: 'join' }
  /** A detector instance leaves. */
  | { kind: 'leave'; who: number }
  /** A detector instance stops and starts again. */
  | { kind: 'restart'; who: number }
  /** Time passes. */
  | { kind: 'settle'; ms: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('emit' as const), run: fc.nat(3), count: fc.integer({ min: 1, max: 80 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('resend' as const), run: fc.nat(3), back: fc.integer({ min: 1, max: 300 }), count: fc.integer({ min: 1, max: 150 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'join' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('leave' as const), who: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), who: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('settle' as const), ms: fc.integer({ min: 0, max: 30 }) }) },
);

const fault = fc.record({ every: fc.integer({ min: 2, max: 5 }), when: fc.constantFrom('before' as const, 'after' as const) });

const scenario = fc.record({
  partitions: fc.integer({ min: 2, max: 4 }),
  runs: fc.array(runShape, { minLength: 1, maxLength: 4 }),
  /** Detector instances in the group before anything happens. */
  instances: fc.integer({ min: 0, max: 3 }),
  actions: fc.array(action, { minLength: 4, maxLength: 40, size: 'medium' }),
  faults: fc.record({ send: fc.option(fault, { nil: null }), batch: fc.option(fault, { nil: null }) }) as fc.Arbitrary<Faults>,
});

type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;

const MAX_INSTANCES = 4;
/** Scenarios per run; DETECTOR_PROPERTY_RUNS=1000 for a longer soak. */
const RUNS = Number(process.env.DETECTOR_PROPERTY_RUNS ?? 50);

/** What the scenarios went through, all together: printed with the run time. */
const seen = { scenarios: 0, events: 0, repeats: 0, outputs: 0, rebalances: 0, failedSends: 0, failedBatches: 0 };

async function play(s: Scenario): Promise<void> {
  const bus = new MemoryBus();
  const faulty = new FaultyBus(bus, s.faults);
  await bus.ensureTopics(standardTopics(s.partitions));
  const producer = await bus.producer();
  const publisher = new EventPublisher(producer, codec);
  const runs = s.runs.map((shape, i) => syntheticRun({ runId: `run-${i}`, ...shape }));
  const sent = runs.map(() => 0);
  const log: AnyEvent[] = [];
  const publish = async (events: AnyEvent[]) => {
    if (events.length === 0) return;
    log.push(...events);
    await publisher.publish(TOPICS.events, events);
  };
  const live: DetectorService[] = [];
  const join = async () => {
    const d = new DetectorService({ ...options, bus: faulty, codec });
    await d.start();
    live.push(d);
  };

  try {
    for (let i = 0; i < s.instances; i++) await join();
    for (const a of s.actions) {
      switch (a.kind) {
        case 'emit': {
          const r = a.run % runs.length;
          await publish(runs[r]!.slice(sent[r], sent[r]! + a.count));
          sent[r] = Math.min(runs[r]!.length, sent[r]! + a.count);
          break;
        }
        case 'resend': {
          const r = a.run % runs.length;
          const from = Math.max(0, sent[r]! - a.back);
          await publish(runs[r]!.slice(from, Math.min(sent[r]!, from + a.count)));
          break;
        }
        case 'join':
          if (live.length < MAX_INSTANCES) await join();
          break;
        case 'leave':
          if (live.length > 0) await stopQuickly(bus, producer, live.splice(a.who % live.length, 1)[0]!);
          break;
        case 'restart':
          if (live.length > 0) {
            const d = live[a.who % live.length]!;
            await stopQuickly(bus, producer, d);
            await d.start();
          }
          break;
        case 'settle':
          await new Promise((r) => setTimeout(r, a.ms));
          break;
      }
    }
    // The rest of every run, and someone to read it.
    for (let r = 0; r < runs.length; r++) await publish(runs[r]!.slice(sent[r]));
    if (live.length === 0) await join();

    const runIds = runs.map((_, i) => `run-${i}`);
    const expected = await replayEvents(runs.flat(), options);
    // A replay of the topic as it is (repeats and all, runs interleaved) says the same per run.
    expect(byRun(await replayEvents(log, options), runIds)).toEqual(byRun(expected, runIds));
    // On a bug, go on after a while and let the comparison below say what is wrong.
    await waitUntil(async () => (await outputCount(bus)) >= expected.length, 'the outputs', 5_000).catch(() => {});
    for (const d of live.splice(0)) await stopQuickly(bus, producer, d);

    const published = await onTopics(bus);
    const ids = published.map((x) => x.value.event_id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i), 'published twice').toEqual([]);
    expect(byRun(published, runIds)).toEqual(byRun(expected, runIds));
    seen.scenarios++;
    seen.events += log.length;
    seen.repeats += log.length - runs.flat().length;
    seen.outputs += expected.length;
    seen.rebalances += s.actions.filter((a) => a.kind !== 'emit' && a.kind !== 'resend' && a.kind !== 'settle').length;
    seen.failedSends += faulty.injected.sends;
    seen.failedBatches += faulty.injected.batches;
  } finally {
    for (const d of live) await d.stop();
    await bus.close();
  }
}

describe('DetectorService (property)', () => {
  it('publishes exactly what a replay of the distinct events computes, whatever the rebalances, repeats and failures', async () => {
    const t0 = performance.now();
    await fc.assert(fc.asyncProperty(scenario, play), { numRuns: RUNS });
    console.log(`detector service property: ${RUNS} scenarios in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${JSON.stringify(seen)}`);
  }, 180_000 + RUNS * 2_000);
});
