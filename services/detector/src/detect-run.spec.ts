import { describe, expect, it } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import { filter, map, take, type OperatorFunction } from 'rxjs';
import { exampleStepMetrics, type AnyEvent } from '@grokstream/schemas';
import { syntheticGrokkingRun } from './testing-runs.ts';
import { detectRun, detectRunToEnd, type DetectorOutput, type RunCarry } from './detect-run.ts';
import { replayEvents } from './replay.ts';
import { phaseOptions, type PhaseCarry } from './phase-machine.ts';
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

  it('ends at a fresh RunFinished with its carry, and drops stale events before it (marbles)', () => {
    const o = { identity, phases: phaseOptions({ warmupSteps: 0, confirmSteps: 1 }), policies: [] };
    const step = (n: number, loss = 1): AnyEvent => ({ name: 'StepMetrics', value: exampleStepMetrics({ run_id: 'm', step: n, train_loss: loss, ts: 100 + n }) });
    const end: AnyEvent = { name: 'RunFinished', value: { event_id: 'f', run_id: 'm', seq: 9, ts: 0, step: 2, reason: 'interrupted', command_id: null, error: null, summary: {} } };
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ cold, expectObservable }) => {
      // Step 1 comes twice (dropped: no second verdict), step 2 diverges, the run finishes; later events are not read.
      const src = cold<AnyEvent>('a-a-b-f-c|', { a: step(1), b: step(2, NaN), f: end, c: step(3) });
      const out = src.pipe(
        detectRunToEnd(o),
        map((x) => (x.name === 'PhaseChanged' ? `${x.value.phase}#${x.value.seq}` : x.name === 'RunEnded' ? x.value : 'STOP')),
      );
      const carry: RunCarry = { last: { step: 2, rank: 3 }, phases: expect.objectContaining({ phase: 'DIVERGED' }) as unknown as PhaseCarry, changes: 1, stopped: false };
      expectObservable(out).toBe('----d-(e|)', { d: 'DIVERGED#0', e: carry });
    });
  });

  it('goes on from a carry: its phase, its next seq, no second stop (marbles)', () => {
    const step = (n: number): AnyEvent => ({ name: 'StepMetrics', value: exampleStepMetrics({ run_id: 'm', step: n, train_acc: 1, test_acc: 1, train_loss: 0.001, ts: 100 + n }) });
    const from: RunCarry = { last: { step: 20, rank: 3 }, phases: { phase: 'GROKKING', memorizedAt: 5, best: 0.5, bestStep: 18, lastProgress: 19, lossScale: 4 }, changes: 3, stopped: true };
    const o = { identity, phases: phaseOptions({ warmupSteps: 0, confirmSteps: 2, window: 3 }), policies: [stopWhenConverged] };
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ cold, expectObservable }) => {
      const src = cold<AnyEvent>('a-b-c-d|', { a: step(20), b: step(21), c: step(22), d: step(23) });
      const out = src.pipe(
        detectRun(o, from),
        map((x) => (x.name === 'PhaseChanged' ? `${x.value.previous_phase}->${x.value.phase}#${x.value.seq}` : 'STOP')),
      );
      // Step 20 is the finish's own step: stale. Converged is confirmed at 22; stopped already, so no StopRun.
      expectObservable(out).toBe('----c--|', { c: 'GROKKING->CONVERGED#3' });
    });
  });
});
