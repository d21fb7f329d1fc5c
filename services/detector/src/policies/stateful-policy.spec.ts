import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { convergedFor } from './converged-for.ts';
import * as policies from './index.ts';
import { frames, runView } from './testing-views.ts';

const newScheduler = () => new TestScheduler((a, e) => expect(a).toEqual(e));

describe('statefulPolicy (shared by all policies)', () => {
  it('completes with its decision and unsubscribes from the source', () => {
    const views = ['PLATEAU', 'CONVERGED', 'CONVERGED', 'CONVERGED', 'CONVERGED'].map((phase, i) =>
      runView(i, { phase: phase as 'PLATEAU' | 'CONVERGED' }),
    );
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold(marbles, values);
      expectObservable(source.pipe(convergedFor({ steps: 1 }))).toBe('--(x|)', { x: expect.objectContaining({ step: 2 }) });
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('keeps state per subscription: one operator instance replayed twice decides the same', () => {
    const views = [0, 1, 2, 3].map((s) => runView(s, { phase: 'CONVERGED' }));
    const { marbles, values } = frames(views);
    const policy = convergedFor({ steps: 2 });
    newScheduler().run(({ cold, expectObservable }) => {
      const decided = '--(x|)';
      const x = expect.objectContaining({ step: 2, evidence: expect.objectContaining({ window_start: 0 }) });
      expectObservable(cold(marbles, values).pipe(policy)).toBe(decided, { x });
      expectObservable(cold(marbles, values).pipe(policy)).toBe(decided, { x });
    });
  });

  it('index re-exports every policy', () => {
    for (const name of ['patience', 'convergedFor', 'degradation', 'noGrokBudget', 'divergence'] as const) {
      expect(typeof policies[name]).toBe('function');
    }
  });
});
