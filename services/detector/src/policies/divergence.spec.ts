import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { divergence } from './divergence.ts';
import { decidesAt, frames, RUN_ID, runView, silentOver } from './testing-views.ts';

const newScheduler = () => new TestScheduler((a, e) => expect(a).toEqual(e));
const losses = (ls: number[]) => ls.map((train_loss, i) => runView(i, { metrics: { train_loss } }));

describe('divergence', () => {
  it('stops at the first NaN train loss', () => {
    const views = losses([1, 0.5, Number.NaN, 0.4]);
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(marbles, values).pipe(divergence())).toBe(decidesAt(2), {
        x: {
          runId: RUN_ID,
          policy: 'divergence',
          reason: 'train_loss is NaN at step 2',
          step: 2,
          evidence: {
            window_start: 2,
            window_end: 2,
            values: { train_loss_nonfinite: 1, last_finite_train_loss: 0.5 },
            thresholds: {},
          },
        },
      });
    });
  });

  it('stops at an infinite test loss even when monitoring train loss', () => {
    const views = [runView(0, { metrics: { train_loss: 1, test_loss: 2 } }), runView(1, { metrics: { train_loss: 0.9, test_loss: Infinity } })];
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(marbles, values).pipe(divergence())).toBe(decidesAt(1), {
        x: {
          runId: RUN_ID,
          policy: 'divergence',
          reason: 'test_loss is +Inf at step 1',
          step: 1,
          evidence: { window_start: 1, window_end: 1, values: { test_loss_nonfinite: 1, last_finite_train_loss: 1 }, thresholds: {} },
        },
      });
    });
  });

  it('with confirmSteps 1, stops on a spike above spikeFactor × the minimum of the last `window` values', () => {
    // window 3: at step 5 the previous three values are 0.2, 0.3, 0.25 → limit 0.8 (4 × 0.2)
    const views = losses([0.3, 0.5, 0.2, 0.3, 0.25, 0.9]);
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(marbles, values).pipe(divergence({ spikeFactor: 4, window: 3, confirmSteps: 1 }))).toBe(decidesAt(5), {
        x: {
          runId: RUN_ID,
          policy: 'divergence',
          reason: 'train_loss 0.9 exceeds 4 × 0.2, the minimum of the 3 values before the spike (limit 0.8), a rise of more than 1 × its first value 0.3',
          step: 5,
          evidence: {
            window_start: 5,
            window_end: 5,
            values: { current: 0.9, windowMin: 0.2, samples: 1, spikeStep: 5, first: 0.3, ratio: 0.9 / 0.2 },
            thresholds: { spikeFactor: 4, window: 3, limit: 0.8, minRise: 1, minRiseAbs: 0.3, confirmSteps: 1, z: 3 },
          },
        },
      });
    });
  });

  it('monitors test_loss when asked, skipping steps where it was not evaluated', () => {
    const views = [
      runView(0, { metrics: { test_loss: 0.1 } }),
      runView(1, { metrics: { test_loss: null, train_loss: 100 } }), // a train-loss jump is not watched here
      runView(2, { metrics: { test_loss: 1.5 } }),
    ];
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(marbles, values).pipe(divergence({ monitor: 'test_loss', confirmSteps: 1 }))).toBe(decidesAt(2), {
        x: {
          runId: RUN_ID,
          policy: 'divergence',
          reason: 'test_loss 1.5 exceeds 10 × 0.1, the minimum of the 20 values before the spike (limit 1), a rise of more than 1 × its first value 0.1',
          step: 2,
          evidence: {
            window_start: 2,
            window_end: 2,
            values: { current: 1.5, windowMin: 0.1, samples: 1, spikeStep: 2, first: 0.1, ratio: 15 },
            thresholds: { spikeFactor: 10, window: 20, limit: 1, minRise: 1, minRiseAbs: 0.1, confirmSteps: 1, z: 3 },
          },
        },
      });
    });
  });

  it('emits nothing for a rising but not spiking loss once the early minimum left the window', () => {
    const views = losses([0.25, 0.5, 0.45, 0.6]);
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(marbles, values).pipe(divergence({ spikeFactor: 2, window: 2, confirmSteps: 1 }))).toBe(
        silentOver(views.length),
      );
      // with a longer window 0.25 is still remembered: 0.6 > 2 × 0.25
      expectObservable(cold(marbles, values).pipe(divergence({ spikeFactor: 2, confirmSteps: 1 }))).toBe(decidesAt(3), {
        x: {
          runId: RUN_ID,
          policy: 'divergence',
          reason: 'train_loss 0.6 exceeds 2 × 0.25, the minimum of the 20 values before the spike (limit 0.5), a rise of more than 1 × its first value 0.25',
          step: 3,
          evidence: {
            window_start: 3,
            window_end: 3,
            values: { current: 0.6, windowMin: 0.25, samples: 1, spikeStep: 3, first: 0.25, ratio: 0.6 / 0.25 },
            thresholds: { spikeFactor: 2, window: 20, limit: 0.5, minRise: 1, minRiseAbs: 0.25, confirmSteps: 1, z: 3 },
          },
        },
      });
    });
  });

  it('is zero-safe and slingshot-safe: a memorized loss wandering near zero or spiking to 0.065 is no divergence; climbing past its first value is', () => {
    // First loss 4.1; then memorized. 2e-7 -> 2.3e-6 is 11x but a rise of 2e-6; a slingshot to 0.065 is a rise of 0.065.
    const wandering = losses([4.1, 0.5, 2e-7, 5e-7, 2.3e-6, 0, 3e-5, 1e-3, 0.065, 0.01]);
    const quiet = frames(wandering);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(quiet.marbles, quiet.values).pipe(divergence())).toBe(silentOver(wandering.length));
    });
    // From an exact 0 up to 5: a rise of 5 > 4.1, and 5 > 10 x 0.
    const blowUp = losses([4.1, 0.5, 0, 5]);
    const loud = frames(blowUp);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(loud.marbles, loud.values).pipe(divergence({ confirmSteps: 1 }))).toBe(decidesAt(3), {
        x: {
          runId: RUN_ID,
          policy: 'divergence',
          reason: 'train_loss 5 exceeds 10 × 0, the minimum of the 20 values before the spike (limit 0), a rise of more than 1 × its first value 4.1',
          step: 3,
          evidence: {
            window_start: 3,
            window_end: 3,
            values: { current: 5, windowMin: 0, samples: 1, spikeStep: 3, first: 4.1 },
            thresholds: { spikeFactor: 10, window: 20, limit: 0, minRise: 1, minRiseAbs: 4.1, confirmSteps: 1, z: 3 },
          },
        },
      });
    });
    // minRise 0 and confirmSteps 1 is the oldest rule: the near-zero wander stops the run.
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(quiet.marbles, quiet.values).pipe(divergence({ minRise: 0, confirmSteps: 1 }), (o) => o)).toBe(decidesAt(4), {
        x: expect.objectContaining({ step: 4 }) as never,
      });
    });
  });

  it('by default stops a loss that goes on climbing after its spike, and not one that jumps and comes back down', () => {
    // Shaped on the recorded runs add-p59-lr2-wd0 (it groks) and add-p59-lr10-diverges (NaN at 13).
    const jump = losses([4.08, 1900, 364, 392, 897, 1207, 1208, 910, 574, 565, 813, 894, 700, 600, 494, 450, 393, 350, 302, 250, 217, 190, 157, 130, 119]);
    const j = frames(jump);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(j.marbles, j.values).pipe(divergence())).toBe(silentOver(jump.length));
    });
    const climb = losses([4.08, 2.4e5, 2e8, 1.8e11, 1.1e14, 9.5e16, 5.9e19]);
    const c = frames(climb);
    newScheduler().run(({ cold, expectObservable }) => {
      // the spike at step 1, then 5 values above 10 × 4.08 climbing: stopped at step 5
      expectObservable(cold(c.marbles, c.values).pipe(divergence())).toBe(decidesAt(5), {
        x: expect.objectContaining({
          step: 5,
          evidence: expect.objectContaining({ window_start: 1, window_end: 5, values: expect.objectContaining({ spikeStep: 1, samples: 5 }) }),
        }) as never,
      });
    });
  });

  it('validates options', () => {
    expect(() => divergence({ confirmSteps: 0 })).toThrow(/option 'confirmSteps' must be > 0/);
    expect(() => divergence({ minRise: -1 })).toThrow(/minRise must be ≥ 0/);
    expect(() => divergence({ spikeFactor: 0 })).toThrow(/divergence: option 'spikeFactor' must be > 0/);
    expect(() => divergence({ window: 2.5 })).toThrow(/option 'window' must be an integer/);
    expect(() => divergence({ monitor: 'test_acc' as 'test_loss' })).toThrow(/option 'monitor'/);
  });
});
