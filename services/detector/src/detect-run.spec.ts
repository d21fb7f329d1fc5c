import { describe, expect, it } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import { filter, map, take, type OperatorFunction } from 'rxjs';
import type { AnyEvent } from '@grokstream/schemas';
import { syntheticGrokkingRun } from './testing-runs.ts';
import { detectRun, type DetectorOutput } from './detect-run.ts';
import { replayEvents } from './replay.ts';
import { phaseOptions } from './phase-machine.ts';
import type { RunView, StopDecision } from './views.ts';

const identity = { detector: 'test-detector', version: '1' };

/** A minimal policy for these tests: stop on the first CONVERGED view. */
export const stopWhenConverged: OperatorFunction<RunView, StopDecision> = (views) =>
  views.pipe(
    filter((v) => v.phase === 'CONVERGED'),
    take(1),
    map((v) => ({ runId: v.runId, policy: 'converged' as const, reason: 'converged', step: v.step, evidence: { window_start: v.step, window_end: v.step, values: {}, thresholds: {} } })),
  );

const grokkingRun = (runId: string, steps = 1000) => syntheticGrokkingRun(runId, steps, false);

const options = { identity, phases: phaseOptions(), policies: [stopWhenConverged] };

describe('detectRun', () => {
  it('emits each phase change and one StopRun, deterministically', async () => {
    const first = await replayEvents(grokkingRun('r1'), options);
    const again = await replayEvents(grokkingRun('r1'), options);
    expect(again).toEqual(first);
    expect(first.map((o) => (o.name === 'PhaseChanged' ? o.value.phase : 'STOP'))).toEqual(['MEMORIZATION', 'PLATEAU', 'GROKKING', 'CONVERGED', 'STOP']);
    const stop = first.at(-1)!;
    expect(stop.name).toBe('StopRun');
    if (stop.name === 'StopRun') {
      expect(stop.value).toMatchObject({ run_id: 'r1', policy: 'converged', issued_by: 'test-detector 1' });
      expect(stop.value.ts).toBe(1_000_000 + stop.value.step);
    }
    const phases = first.filter((o): o is Extract<DetectorOutput, { name: 'PhaseChanged' }> => o.name === 'PhaseChanged');
    expect(phases.map((p) => p.value.seq)).toEqual([0, 1, 2, 3]);
    expect(new Set(phases.map((p) => p.value.event_id)).size).toBe(4);
  });

  it('keeps runs apart and issues at most one StopRun per run', async () => {
    const a = grokkingRun('a');
    const b = grokkingRun('b');
    const interleaved = a.flatMap((e, i) => [e, b[i]!]);
    const out = await replayEvents(interleaved, { ...options, policies: [stopWhenConverged, stopWhenConverged] });
    const stops = out.filter((o) => o.name === 'StopRun');
    expect(stops.map((s) => s.value.run_id).sort()).toEqual(['a', 'b']);
    expect(out.filter((o) => o.value.run_id === 'a').map((o) => o.name)).toEqual(out.filter((o) => o.value.run_id === 'b').map((o) => o.name));
  });

  it('passes a source error through (marbles)', () => {
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ cold, expectObservable }) => {
      const src = cold<AnyEvent>('-a-#', { a: grokkingRun('m', 1)[0]! });
      expectObservable(src.pipe(detectRun(options))).toBe('---#');
    });
  });
});
