// The service on the in-process bus: live outputs equal a replay; a restart rebuilds state
// from the log and says nothing twice.
import { describe, expect, it } from 'vitest';
import { EventCodec, TOPICS, type AnyEvent } from '@grokstream/schemas';
import { EventPublisher, MemoryBus, readAll, standardTopics, waitUntil } from '@grokstream/bus';
import { filter, map, take, type OperatorFunction } from 'rxjs';
import { DetectorService } from './service.ts';
import { replayEvents } from './replay.ts';
import { phaseOptions } from './phase-machine.ts';
import { syntheticGrokkingRun } from './testing-runs.ts';
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
