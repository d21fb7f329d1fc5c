import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { degradation } from './degradation.ts';
import { decidesAt, frames, RUN_ID, runView, silentOver } from './testing-views.ts';

const newScheduler = () => new TestScheduler((a, e) => expect(a).toEqual(e));
const gens = (gs: Array<number | null>, every = 100) => gs.map((generalization, i) => runView(i * every, { generalization }));

describe('degradation', () => {
  it('stops an anti-grokking run: best early, then no new best for `steps` steps and below best - minDelta', () => {
    // best 0.9 at step 200; step 400 is only 0.02 below (not past minDelta 0.05); step 500 is
    const views = gens([0.5, 0.8, 0.9, null, 0.88, 0.8, 0.7]);
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(marbles, values).pipe(degradation({ steps: 200, share: 0, minDelta: 0.05 }))).toBe(decidesAt(5), {
        x: {
          runId: RUN_ID,
          policy: 'degradation',
          reason:
            'generalization peaked at 0.9 at step 200 and is now 0.8 (below best - 0.05) after 300 steps without a new best (threshold max(200, 0 × 200) = 200)',
          step: 500,
          evidence: {
            window_start: 200,
            window_end: 500,
            values: { best: 0.9, bestStep: 200, current: 0.8, drop: 0.9 - 0.8, stepsSinceBest: 300 },
            thresholds: { steps: 200, share: 0, wait: 200, minDelta: 0.05 },
          },
        },
      });
    });
  });

  it('emits nothing while the run keeps setting new bests, or plateaus at its best', () => {
    const views = gens([0.1, 0.2, 0.3, 0.9, 0.9, 0.9, 0.9, 0.95]);
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(marbles, values).pipe(degradation({ steps: 100 }))).toBe(silentOver(views.length));
    });
  });

  it('a dip that recovers to a new best restarts the wait; NaN is skipped', () => {
    const views = gens([0.5, 0.4, Number.NaN, 0.6, 0.55, 0.3]);
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(marbles, values).pipe(degradation({ steps: 300 }))).toBe(silentOver(views.length));
    });
  });

  it('by default waits max(50, half the best step) past the best, for a drop of 0.1 (S1: best at epoch 0, stopped 50 epochs on)', () => {
    // best 0.715 at step 0 (S1's anti-grokking run); every 10 steps
    const early = [0.715, 0.71, 0.7, 0.69, 0.66, 0.64, 0.62, 0.61, 0.6, 0.59].map((g, i) => runView(i * 10, { generalization: g }));
    const e = frames(early);
    newScheduler().run(({ cold, expectObservable }) => {
      // 0.61 at step 70 is the first value 0.1 below the best with ≥ 50 steps waited
      expectObservable(cold(e.marbles, e.values).pipe(degradation())).toBe(decidesAt(7), {
        x: expect.objectContaining({ step: 70, evidence: expect.objectContaining({ thresholds: { steps: 50, share: 0.5, wait: 50, minDelta: 0.1 } }) }) as never,
      });
    });
    // the same fall after a best at step 400 must hold for 200 steps
    const late = [0.9, 0.75, 0.75, 0.75, 0.75].map((g, i) => runView(400 + i * 60, { generalization: g }));
    const l = frames(late);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(l.marbles, l.values).pipe(degradation())).toBe(decidesAt(4), {
        x: expect.objectContaining({ step: 640 }) as never,
      });
    });
    // a plateau wandering 0.05 under its best is not degradation
    const wander = [0.1, 0.05, 0.06, 0.05, 0.07, 0.05].map((g, i) => runView(i * 100, { generalization: g }));
    const w = frames(wander);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(w.marbles, w.values).pipe(degradation())).toBe(silentOver(wander.length));
    });
  });

  it('validates options', () => {
    expect(() => degradation({ share: -1 })).toThrow(/option 'share'/);
    expect(() => degradation({ steps: 0 })).toThrow(/degradation: option 'steps' must be > 0/);
    expect(() => degradation({ steps: 10, minDelta: -0.1 })).toThrow(/option 'minDelta'/);
  });
});
