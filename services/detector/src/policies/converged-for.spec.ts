import type { Phase } from '@grokstream/schemas';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { convergedFor } from './converged-for.ts';
import { decidesAt, frames, RUN_ID, runView, silentOver } from './testing-views.ts';

const newScheduler = () => new TestScheduler((a, e) => expect(a).toEqual(e));
const phases = (ps: Phase[], every = 10) => ps.map((phase, i) => runView(i * every, { phase }));

describe('convergedFor', () => {
  it('stops once CONVERGED has held for `steps` steps, restarting the count after an interruption', () => {
    const views = phases(['GROKKING', 'CONVERGED', 'CONVERGED', 'GROKKING', 'CONVERGED', 'CONVERGED', 'CONVERGED', 'CONVERGED']);
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(marbles, values).pipe(convergedFor({ steps: 20 }))).toBe(decidesAt(6), {
        x: {
          runId: RUN_ID,
          policy: 'converged',
          reason: 'phase has been CONVERGED since step 40 for 20 steps (threshold 20)',
          step: 60,
          evidence: {
            window_start: 40,
            window_end: 60,
            values: { convergedSince: 40, convergedForSteps: 20 },
            thresholds: { steps: 20 },
          },
        },
      });
    });
  });

  it('emits nothing when CONVERGED never lasts long enough', () => {
    const views = phases(['CONVERGED', 'CONVERGED', 'PLATEAU', 'CONVERGED', 'CONVERGED', 'DEGRADATION']);
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(marbles, values).pipe(convergedFor({ steps: 20 }))).toBe(silentOver(views.length));
    });
  });

  it('steps: 0 stops on the first CONVERGED view', () => {
    const views = phases(['GROKKING', 'CONVERGED', 'CONVERGED']);
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(marbles, values).pipe(convergedFor({ steps: 0 }))).toBe(decidesAt(1), {
        x: {
          runId: RUN_ID,
          policy: 'converged',
          reason: 'phase has been CONVERGED since step 10 for 0 steps (threshold 0)',
          step: 10,
          evidence: { window_start: 10, window_end: 10, values: { convergedSince: 10, convergedForSteps: 0 }, thresholds: { steps: 0 } },
        },
      });
    });
  });

  it('validates options', () => {
    expect(() => convergedFor({ steps: -1 })).toThrow(/convergedFor: option 'steps' must be >= 0/);
    expect(() => convergedFor({ steps: Number.NaN })).toThrow(/option 'steps'/);
  });
});
