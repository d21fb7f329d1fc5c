import type { ProbeSummary } from '@grokstream/schemas';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { RunView, StopDecision } from '../views.ts';
import { noGrokBudget } from './no-grok-budget.ts';
import { decidesAt, frames, gopProbe, RUN_ID, runView, silentOver } from './testing-views.ts';

const newScheduler = () => new TestScheduler((a, e) => expect(a).toEqual(e));

const DEFAULT_THRESHOLDS = { minBudget: 0, minProgress: 0.01, weightNormDrop: 0.02, effectiveRankDrop: 0.05, window: 100 };

/** Views every 50 steps; memorized at `memorizedAt`; rows give generalization, weight norm, probe. */
function run(
  memorizedAt: number,
  rows: Array<{ step: number; gen?: number | null; norm?: number; probe?: ProbeSummary }>,
): RunView[] {
  return rows.map(({ step, gen, norm, probe }) =>
    runView(step, {
      generalization: gen ?? null,
      memorizedAt: step >= memorizedAt ? memorizedAt : null,
      metrics: { weight_norm: norm ?? 1 },
      probe: probe ?? null,
    }),
  );
}

describe('noGrokBudget', () => {
  it('stops when the budget (factor × memorizedAt) runs out with no test progress beyond the epsilon', () => {
    const views = run(100, [
      { step: 0, gen: 0.05 },
      { step: 50, gen: 0.08 },
      { step: 100, gen: 0.1 }, // memorized: g0 = 0.1, deadline 100 + 2 × 100
      { step: 150, gen: null },
      { step: 200, gen: 0.105 }, // +0.005 is not progress (epsilon 0.01)
      { step: 250, gen: 0.1 },
      { step: 300, gen: 0.1 },
    ]);
    const { marbles, values } = frames(views);
    const expected: StopDecision = {
      runId: RUN_ID,
      policy: 'no_grok_budget',
      reason:
        'no test progress (generalization not above 0.1 + 0.01) within 200 steps of memorization at step 100 ' +
        '(budget 200, 0 extension(s)) and no grokking precursor',
      step: 300,
      evidence: {
        window_start: 100,
        window_end: 300,
        values: {
          memorizedAt: 100,
          budget: 200,
          deadline: 300,
          extensions: 0,
          generalizationAtMemorization: 0.1,
          bestGeneralizationSince: 0.105,
          weightNormDrop: 0,
        },
        thresholds: { factor: 2, ...DEFAULT_THRESHOLDS },
      },
    };
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(marbles, values).pipe(noGrokBudget({ factor: 2 }))).toBe(decidesAt(6), { x: expected });
    });
  });

  it('emits nothing once generalization rose more than the epsilon after memorization (or before it is memorized)', () => {
    const views = run(100, [
      { step: 0, gen: 0.05 },
      { step: 100, gen: 0.1 },
      { step: 200, gen: 0.1 },
      { step: 250, gen: 0.2 }, // progress
      { step: 300, gen: 0.1 },
      { step: 400, gen: 0.1 },
    ]);
    const { marbles, values } = frames(views);
    const neverMemorized = frames(views.map((v) => ({ ...v, memorizedAt: null })));
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(marbles, values).pipe(noGrokBudget({ factor: 2 }))).toBe(silentOver(views.length));
      expectObservable(cold(neverMemorized.marbles, neverMemorized.values).pipe(noGrokBudget({ factor: 0 }))).toBe(
        silentOver(views.length),
      );
    });
  });

  it('a falling weight norm extends the budget by `window` steps; the next check without a precursor stops', () => {
    const views = run(100, [
      { step: 100, gen: 0.1 },
      { step: 200, norm: 1 },
      { step: 250, norm: 0.99 },
      { step: 300, norm: 0.97 }, // deadline: norm fell 3% > 2% over [200, 300] → deadline 400
      { step: 350, norm: 0.97 },
      { step: 400, norm: 0.97 }, // flat over [300, 400] → stop
    ]);
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(marbles, values).pipe(noGrokBudget({ factor: 2 }))).toBe(decidesAt(5), {
        x: {
          runId: RUN_ID,
          policy: 'no_grok_budget',
          reason:
            'no test progress (generalization not above 0.1 + 0.01) within 300 steps of memorization at step 100 ' +
            '(budget 200, 1 extension(s)) and no grokking precursor',
          step: 400,
          evidence: {
            window_start: 100,
            window_end: 400,
            values: {
              memorizedAt: 100,
              budget: 200,
              deadline: 400,
              extensions: 1,
              generalizationAtMemorization: 0.1,
              weightNormDrop: 0,
            },
            thresholds: { factor: 2, ...DEFAULT_THRESHOLDS },
          },
        },
      });
    });
  });

  it("a falling 'model' GOP effective rank extends the budget; precursor thresholds and minBudget are options", () => {
    // memorized at 10: factor 1 gives 10 steps, minBudget raises it to 190 → deadline 200
    const views = run(10, [
      { step: 10, gen: 0.3 },
      { step: 100, probe: gopProbe(100, 10) },
      { step: 150, probe: gopProbe(100, 10) }, // same probe repeated: one sample
      { step: 200, probe: gopProbe(200, 9) }, // rank -10% > 8% over [100, 200] → deadline 300
      { step: 250, probe: gopProbe(200, 9) },
      { step: 300, probe: gopProbe(300, 8.5) }, // -5.6% over [200, 300] ≤ 8% → stop
      { step: 350, probe: gopProbe(300, 8.5) },
    ]);
    const { marbles, values } = frames(views);
    const policy = noGrokBudget({ factor: 1, minBudget: 190, precursors: { effectiveRankDrop: 0.08 } });
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(marbles, values).pipe(policy)).toBe(decidesAt(5), {
        x: {
          runId: RUN_ID,
          policy: 'no_grok_budget',
          reason:
            'no test progress (generalization not above 0.3 + 0.01) within 290 steps of memorization at step 10 ' +
            '(budget 190, 1 extension(s)) and no grokking precursor',
          step: 300,
          evidence: {
            window_start: 10,
            window_end: 300,
            values: {
              memorizedAt: 10,
              budget: 190,
              deadline: 300,
              extensions: 1,
              generalizationAtMemorization: 0.3,
              weightNormDrop: 0,
              effectiveRankDrop: (9 - 8.5) / 9,
            },
            thresholds: { ...DEFAULT_THRESHOLDS, factor: 1, minBudget: 190, effectiveRankDrop: 0.08 },
          },
        },
      });
    });
  });

  it('validates options', () => {
    expect(() => noGrokBudget({ factor: -1 })).toThrow(/noGrokBudget: option 'factor' must be >= 0/);
    expect(() => noGrokBudget({ factor: 1, minBudget: Number.NaN })).toThrow(/option 'minBudget'/);
    expect(() => noGrokBudget({ factor: 1, minProgress: -0.1 })).toThrow(/option 'minProgress'/);
    expect(() => noGrokBudget({ factor: 1, precursors: { window: 0 } })).toThrow(/option 'precursors.window'/);
    expect(() => noGrokBudget({ factor: 1, precursors: { weightNormDrop: -1 } })).toThrow(
      /option 'precursors.weightNormDrop'/,
    );
  });
});
