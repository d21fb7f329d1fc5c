// The service on the in-process bus: live outputs equal a replay; a restart or a rebalance
// rebuilds state from the log and says nothing twice.
import { describe, expect, it } from 'vitest';
import { EventCodec, TOPICS, type AnyEvent } from '@grokstream/schemas';
import { EventPublisher, MemoryBus, partitionForKey, readAll, standardTopics, waitUntil } from '@grokstream/bus';
import { filter, map, take, type OperatorFunction } from 'rxjs';
import { DetectorService } from './service.ts';
import { replayEvents } from './replay.ts';
import { phaseOptions } from './phase-machine.ts';
import { syntheticGrokkingRun, syntheticRun, syntheticRunStarted } from './testing-runs.ts';
import { detectorOptions, parseDetectorConfig } from './config.ts';
import { FaultyBus } from './testing-bus.ts';
import { byRun, onTopics, outputCount, stopQuickly } from './testing-service.ts';
import type { RunView, StopDecision } from './views.ts';

const codec = EventCodec.load();
const stopWhenConverged: OperatorFunction<RunView, StopDecision> = (views) =>
  views.pipe(
    filter((v) => v.phase === 'CONVERGED'),
    take(1),
    map((v) => ({ runId: v.runId, policy: 'converged' as const, reason: 'converged', step: v.step, evidence: { window_start: v.step, window_end: v.step, values: {}, thresholds: {} } })),
  );
const detector = { identity: { detector: 'svc-test', version: '1' }, phases: phaseOptions(), policies: [stopWhenConverged] };

async function outputs(bus: MemoryBus) {
  const msgs = await readAll(bus, [TOPICS.phases, TOPICS.control]);
  return msgs.map((m) => codec.decode(m.value)).map((e) => ({ name: e.name, value: e.value }) as AnyEvent);
}

describe('DetectorService', () => {
  it('publishes what a replay computes, and after a restart publishes nothing again', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics(standardTopics(3));
    const producer = await bus.producer();
    const runs = ['r1', 'r2', 'r3'].map((id) => syntheticGrokkingRun(id));
    const events = runs[0]!.flatMap((e, i) => [e, runs[1]![i]!, runs[2]![i]!]);
    const svc = new DetectorService({ ...detector, bus, codec });
    await svc.start();
    await new EventPublisher(producer, codec).publish(TOPICS.events, events);
    const expected = await replayEvents(events, detector);
    await waitUntil(() => svc.stats.phaseChanges + svc.stats.stops === expected.length, 'the live outputs');
    await svc.stop();
    expect(svc.stats.activeRuns).toBe(0);

    const live = await outputs(bus);
    const byRun = (xs: AnyEvent[]) => ['r1', 'r2', 'r3'].map((r) => xs.filter((x) => x.value.run_id === r));
    // Per run, in order: the same PhaseChanged and StopRun events, ids included.
    const sorted = (xs: AnyEvent[]) => byRun(xs).map((run) => [...run.filter((x) => x.name === 'PhaseChanged'), ...run.filter((x) => x.name === 'StopRun')]);
    expect(sorted(live)).toEqual(sorted(expected as AnyEvent[]));
    expect(live.filter((x) => x.name === 'StopRun')).toHaveLength(3);

    const again = new DetectorService({ ...detector, bus, codec });
    await again.start();
    await waitUntil(() => again.stats.events === events.length, 'the restart to read the log');
    await again.stop();
    expect(again.stats.suppressed).toBe(expected.length);
    expect(await outputs(bus)).toHaveLength(live.length);
  });
});

// Issue 7: a second detector joined the group and left; the first re-read its partition from
// offset 0 into the state it had kept, and a healthy grokking run got "step 1: DIVERGED" and a
// divergence StopRun at step 486.
describe('DetectorService under rebalances', () => {
  const issue7 = detectorOptions(
    parseDetectorConfig({ detector: { name: 'svc-rebalance' }, policies: [{ kind: 'divergence' }, { kind: 'converged', steps: 100 }] }, 'test'),
  );
  // A run on partition 1 of 2: the second member of the group takes it, and gives it back.
  const runId = Array.from({ length: 50 }, (_, i) => `grok-${i}`).find((id) => partitionForKey(id, 2) === 1)!;
  const run = syntheticRun({ runId, steps: 1000, memorizeBy: 100, grokAt: 400, grokSteps: 200, probeEvery: 10, checkpointEvery: 100, ending: { kind: 'completed' } });
  /** The run's events up to and including step n (its probes and checkpoints too). */
  const upTo = (n: number) => run.slice(0, run.findIndex((e) => e.name === 'StepMetrics' && e.value.step > n));

  async function setup() {
    const memory = new MemoryBus();
    await memory.ensureTopics(standardTopics(2));
    const producer = await memory.producer();
    const publish = (events: AnyEvent[]) => new EventPublisher(producer, codec).publish(TOPICS.events, events);
    return { memory, publish, poker: producer };
  }

  it('a second detector joins mid-run and leaves: no false DIVERGED, outputs equal replay, none twice', async () => {
    const { memory, publish, poker } = await setup();
    const a = new DetectorService({ ...issue7, bus: memory, codec });
    await a.start();
    const first = upTo(486);
    await publish(first);
    await waitUntil(() => a.stats.events >= first.length, 'A to read up to step 486');
    expect(a.stats.phaseChanges).toBeGreaterThan(0);

    // B joins: it takes partition 1 (the run), rebuilds it from offset 0 and publishes nothing again.
    const b = new DetectorService({ ...issue7, bus: memory, codec });
    await b.start();
    await waitUntil(() => b.stats.events >= first.length, 'B to rebuild the run');
    expect(b.stats.suppressed).toBe(a.stats.phaseChanges);
    expect(a.stats.activeRuns).toBe(0); // A dropped the run with its partition
    // While B holds it, the run goes on: B says what is new (CONVERGED).
    const second = upTo(700).slice(first.length);
    await publish(second);
    await waitUntil(() => b.stats.phaseChanges === 1, 'B to say CONVERGED (step 641)');

    // B leaves: A gets the partition back, rebuilds it from 0, says nothing B said, and stops
    // the run when the converged policy says so (step 745).
    await stopQuickly(memory, poker, b);
    await publish(run.slice(first.length + second.length));
    const expected = await replayEvents(run, issue7);
    await waitUntil(async () => (await outputCount(memory)) >= expected.length, 'all outputs');
    await stopQuickly(memory, poker, a);

    const live = await onTopics(memory);
    expect(byRun(live, [runId])).toEqual(byRun(expected, [runId]));
    expect(live.map((x) => x.value.event_id)).toEqual([...new Set(live.map((x) => x.value.event_id))]);
    expect(live.filter((x) => x.name === 'PhaseChanged' && x.value.phase === 'DIVERGED')).toEqual([]);
    expect(live.filter((x) => x.name === 'StopRun').map((x) => (x.value as { policy: string }).policy)).toEqual(['converged']);
  });

  it('a restart of the only detector mid-run (a broker restart does the same) says nothing twice', async () => {
    const { memory, publish, poker } = await setup();
    const a = new DetectorService({ ...issue7, bus: memory, codec });
    await a.start();
    await publish(upTo(486));
    await waitUntil(() => a.stats.events >= upTo(486).length, 'A to read up to step 486');
    await stopQuickly(memory, poker, a);
    await a.start();
    await publish(run.slice(upTo(486).length));
    const expected = await replayEvents(run, issue7);
    await waitUntil(async () => (await outputCount(memory)) >= expected.length, 'all outputs');
    await stopQuickly(memory, poker, a);
    expect(byRun(await onTopics(memory), [runId])).toEqual(byRun(expected, [runId]));
  });

  it('a send whose ack is lost, and batches that fail after their handler ran, publish nothing twice', async () => {
    const memory = new MemoryBus();
    const faulty = new FaultyBus(memory, { send: { every: 2, when: 'after' }, batch: { every: 3, when: 'after' } });
    await memory.ensureTopics(standardTopics(2));
    const producer = await memory.producer();
    const a = new DetectorService({ ...issue7, bus: faulty, codec });
    await a.start();
    for (let i = 0; i < run.length; i += 100) await new EventPublisher(producer, codec).publish(TOPICS.events, run.slice(i, i + 100));
    const expected = await replayEvents(run, issue7);
    await waitUntil(async () => (await outputCount(memory)) >= expected.length, 'all outputs');
    await stopQuickly(memory, producer, a);
    expect(faulty.injected.sends).toBeGreaterThan(0);
    expect(faulty.injected.batches).toBeGreaterThan(0);
    expect(byRun(await onTopics(memory), [runId])).toEqual(byRun(expected, [runId]));
  });

  it('holds its outputs back while its hold on the partitions is unconfirmed, and publishes them once confirmed, with no new event', async () => {
    // Kafka after a coordinator move: batches keep coming, the member claims no partition until
    // a heartbeat confirms its generation (bus/group-membership.ts). CI run 14 lost every
    // verdict of a sweep this way, when the service returned quietly instead of retrying.
    const memory = new MemoryBus();
    const faulty = new FaultyBus(memory, {});
    await memory.ensureTopics(standardTopics(2));
    const producer = await memory.producer();
    const a = new DetectorService({ ...issue7, bus: faulty, codec });
    await a.start();
    faulty.unconfirmed = true;
    await new EventPublisher(producer, codec).publish(TOPICS.events, run);
    const expected = await replayEvents(run, issue7);
    expect(expected.length).toBeGreaterThan(0);
    // Every event read, and nothing published: the outputs wait in the outbox, counted as lag.
    await waitUntil(() => a.stats.events >= run.length, 'the detector to read the run');
    expect(await outputCount(memory)).toBe(0);
    expect(await a.lag()).toBeGreaterThan(0);
    faulty.unconfirmed = false;
    await waitUntil(async () => (await outputCount(memory)) >= expected.length, 'the held outputs, once confirmed');
    expect(await a.lag()).toBe(0);
    await stopQuickly(memory, producer, a);
    expect(byRun(await onTopics(memory), [runId])).toEqual(byRun(expected, [runId]));
  });
});

describe('DetectorService and a trainer stop gate', () => {
  it('tells a gated run how far it has judged, after the StopRun of those steps; an ungated run is told nothing', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics(standardTopics(2));
    const producer = await bus.producer();
    const started = (runId: string, gate: unknown) =>
      syntheticRunStarted({ event_id: `${runId}-start`, run_id: runId, seq: 0, ts: 1_000_000, resumed_from_step: null, config_json: JSON.stringify({ run: { name: runId, stop_gate: gate } }) });
    const gated = [started('gated', { lag: 1, timeout_ms: 2000 }), ...syntheticGrokkingRun('gated', 1000, false)];
    const ungated = [started('ungated', null), ...syntheticGrokkingRun('ungated', 1000, false)];
    const svc = new DetectorService({ ...detector, bus, codec });
    await svc.start();
    const publisher = new EventPublisher(producer, codec);
    // In several sends, as a trainer's batches come.
    for (let i = 0; i < gated.length; i += 50) {
      await publisher.publish(TOPICS.events, [...gated.slice(i, i + 50), ...ungated.slice(i, i + 50)]);
    }
    await waitUntil(() => svc.stats.events === gated.length + ungated.length, 'the detector to judge every event');
    await svc.stop();
    const control = (await outputs(bus)).filter((e) => e.name === 'StopRun' || e.name === 'DetectorProgress');
    const progress = control.filter((e) => e.name === 'DetectorProgress');
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.every((e) => e.value.run_id === 'gated')).toBe(true);
    expect(svc.stats.progress).toBe(progress.length);
    const steps = progress.map((e) => (e.value as { step: number }).step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(steps.at(-1)).toBe(1000);
    // The StopRun comes before the first progress that covers its step (same partition, in order).
    const stop = control.findIndex((e) => e.name === 'StopRun' && e.value.run_id === 'gated');
    expect(stop).toBeGreaterThanOrEqual(0);
    const stopStep = (control[stop]!.value as { step: number }).step;
    const covering = control.findIndex((e) => e.name === 'DetectorProgress' && (e.value as { step: number }).step >= stopStep);
    expect(covering).toBeGreaterThan(stop);
  });
});
