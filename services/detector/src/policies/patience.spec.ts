import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { StopDecision } from '../views.ts';
import { patience } from './patience.ts';
import { decidesAt, frames, RUN_ID, runView, silentOver } from './testing-views.ts';

const newScheduler = () => new TestScheduler((a, e) => expect(a).toEqual(e));

describe('patience', () => {
  it('stops test_loss (auto → min) after `patience` steps without improvement, sparse eval counted in steps', () => {
    // eval every 10 steps; steps in between have test_loss null and do not count
    const losses: Array<[number, number | null]> = [
      [0, 1.0],
      [5, null],
      [10, 0.8],
      [15, null],
      [20, 0.85],
      [30, 0.8], // equal to best: not an improvement
      [40, 0.9],
    ];
    const views = losses.map(([step, test_loss]) => runView(step, { metrics: { test_loss } }));
    const { marbles, values } = frames(views);
    const expected: StopDecision = {
      runId: RUN_ID,
      policy: 'patience',
      reason: 'test_loss has not improved (min, minDelta 0) on its best 0.8 from step 10 for 30 steps (patience 30)',
      step: 40,
      evidence: {
        window_start: 10,
        window_end: 40,
        values: { current: 0.9, best: 0.8, lastImprovementStep: 10, stepsSinceImprovement: 30, baselineBeaten: 1 },
        thresholds: { patience: 30, minDelta: 0 },
      },
    };
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(marbles, values).pipe(patience({ monitor: 'test_loss', patience: 30 }))).toBe(
        decidesAt(6),
        { x: expected },
      );
    });
  });

  it('emits nothing while the run keeps improving', () => {
    const views = [0, 10, 20, 30, 40, 50].map((s, i) => runView(s, { metrics: { test_acc: 0.1 * (i + 1) } }));
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(marbles, values).pipe(patience({ monitor: 'test_acc', patience: 10 }))).toBe(
        silentOver(views.length),
      );
    });
  });

  it('auto picks max for generalization; minDelta makes small gains not count', () => {
    const gens = [0.5, 0.505, 0.509, 0.52];
    const views = gens.map((g, i) => runView(i * 100, { generalization: g }));
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold(marbles, values).pipe(patience({ monitor: 'generalization', patience: 200, minDelta: 0.01 })),
      ).toBe(decidesAt(2), {
        x: {
          runId: RUN_ID,
          policy: 'patience',
          reason:
            'generalization has not improved (max, minDelta 0.01) on its best 0.5 from step 0 for 200 steps (patience 200)',
          step: 200,
          evidence: {
            window_start: 0,
            window_end: 200,
            values: { current: 0.509, best: 0.5, lastImprovementStep: 0, stepsSinceImprovement: 200, baselineBeaten: 1 },
            thresholds: { patience: 200, minDelta: 0.01 },
          },
        },
      });
    });
  });

  it('with a baseline, stops when the run fails to beat it within patience steps', () => {
    const views = [0, 50, 100, 150].map((s) => runView(s, { metrics: { test_acc: 0.3 } }));
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold(marbles, values).pipe(patience({ monitor: 'test_acc', patience: 100, baseline: 0.5 })),
      ).toBe(decidesAt(2), {
        x: {
          runId: RUN_ID,
          policy: 'patience',
          reason: 'test_acc did not beat the baseline 0.5 (max, minDelta 0) within 100 steps (patience 100)',
          step: 100,
          evidence: {
            window_start: 0,
            window_end: 100,
            values: { current: 0.3, best: 0.5, lastImprovementStep: 0, stepsSinceImprovement: 100, baselineBeaten: 0 },
            thresholds: { patience: 100, minDelta: 0, baseline: 0.5 },
          },
        },
      });
    });
  });

  it('with a baseline that is beaten, waits from the improvement', () => {
    const accs = [0.3, 0.6, 0.6, 0.6];
    const views = accs.map((a, i) => runView(i * 50, { metrics: { test_acc: a } }));
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold(marbles, values).pipe(patience({ monitor: 'test_acc', patience: 100, baseline: 0.5, mode: 'max' })),
      ).toBe(decidesAt(3), {
        x: {
          runId: RUN_ID,
          policy: 'patience',
          reason: 'test_acc has not improved (max, minDelta 0) on its best 0.6 from step 50 for 100 steps (patience 100)',
          step: 150,
          evidence: {
            window_start: 50,
            window_end: 150,
            values: { current: 0.6, best: 0.6, lastImprovementStep: 50, stepsSinceImprovement: 100, baselineBeaten: 1 },
            thresholds: { patience: 100, minDelta: 0, baseline: 0.5 },
          },
        },
      });
    });
  });

  it('ignores views before startFromStep and skips non-finite values', () => {
    const views = [
      runView(0, { metrics: { train_loss: 0.01 } }), // before startFromStep: would otherwise be the best
      runView(100, { metrics: { train_loss: 0.5 } }),
      runView(150, { metrics: { train_loss: Number.NaN } }),
      runView(200, { metrics: { train_loss: 0.4 } }),
      runView(250, { metrics: { train_loss: 0.45 } }),
    ];
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(
        cold(marbles, values).pipe(patience({ monitor: 'train_loss', patience: 100, startFromStep: 100 })),
      ).toBe(silentOver(views.length));
    });
  });

  it('explicit mode overrides auto', () => {
    const views = [0, 1, 2].map((s) => runView(s, { metrics: { test_acc: 1 - 0.1 * s } }));
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      // accuracy falling is an improvement in 'min' mode
      expectObservable(cold(marbles, values).pipe(patience({ monitor: 'test_acc', patience: 1, mode: 'min' }))).toBe(
        silentOver(3),
      );
    });
  });

  it('validates options at construction', () => {
    expect(() => patience({ monitor: 'nope' as 'test_acc', patience: 1 })).toThrow(/patience: option 'monitor'/);
    expect(() => patience({ monitor: 'test_acc', patience: 0 })).toThrow(/option 'patience' must be > 0/);
    expect(() => patience({ monitor: 'test_acc', patience: 1, minDelta: -1 })).toThrow(/option 'minDelta'/);
    expect(() => patience({ monitor: 'test_acc', patience: 1, mode: 'up' as 'max' })).toThrow(/option 'mode'/);
    expect(() => patience({ monitor: 'test_acc', patience: 1, baseline: Number.NaN })).toThrow(/option 'baseline'/);
    expect(() => patience({ monitor: 'test_acc', patience: 1, startFromStep: Infinity })).toThrow(
      /option 'startFromStep'/,
    );
  });
});
