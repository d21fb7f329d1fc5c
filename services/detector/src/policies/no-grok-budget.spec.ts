import { firstValueFrom, from, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { RunView } from '../views.ts';
import { noGrokBudget, type NoGrokBudgetOptions } from './no-grok-budget.ts';
import { decidesAt, frames, RUN_ID, runView, silentOver } from './testing-views.ts';
import { exampleProbeSummary, type ProbeSummary } from '@grokstream/schemas';

/** A probe carrying only a Fourier sparsity. */
const fourierProbe = (step: number, sparsity: number): ProbeSummary => exampleProbeSummary({ run_id: RUN_ID, step, event_id: `p${step}`, ts: step, extra: { fourier_sparsity: sparsity } });

const newScheduler = () => new TestScheduler((a, e) => expect(a).toEqual(e));

/** Views every `every` steps up to `until`; memorized at `memorizedAt`; gen, norm and (every 50 steps) Fourier sparsity as functions of the step. */
function run(
  memorizedAt: number,
  gen: (step: number) => number | null,
  norm: (step: number) => number = (s) => 10 + s / 100,
  until = 2000,
  every = 10,
  fourier?: (step: number) => number,
): RunView[] {
  const views: RunView[] = [];
  let probe: ProbeSummary | null = null;
  for (let step = 0; step <= until; step += every) {
    if (fourier && step % 50 === 0) probe = fourierProbe(step, fourier(step));
    views.push(runView(step, { generalization: gen(step), memorizedAt: step >= memorizedAt ? memorizedAt : null, metrics: { weight_norm: norm(step) }, probe }));
  }
  return views;
}

const decide = (views: RunView[], o: NoGrokBudgetOptions = {}) => firstValueFrom(from(views).pipe(noGrokBudget(o), toArray()));

describe('noGrokBudget (the hopeless-run stop)', () => {
  it('stops a memorized run creeping too slowly to generalize within 20 memorization times, at 3 memorization times', async () => {
    // memorized at 100 at 0.05; +1e-4 a step would reach 0.95 at step 9,100 (> 100 + 20 × 100)
    const [stop, ...more] = await decide(run(100, (s) => (s < 100 ? 0.01 : 0.05 + 1e-4 * (s - 100))));
    expect(more).toEqual([]);
    expect(stop).toMatchObject({ runId: RUN_ID, policy: 'no_grok_budget', step: 400 });
    expect(stop!.reason).toMatch(/^hopeless: memorized at step 100; generalization 0\.0800 \(0\.0500 at memorization\) would reach 0\.95 only at step 9100; it would not generalize within 20 × 100 steps of memorizing \(by step 2100\)/);
    expect(stop!.evidence.values.projectedGrokStep).toBeCloseTo(9100, 0);
    expect(stop!.evidence.values.slope).toBeCloseTo(1e-4, 10);
    expect(stop!.evidence.thresholds).toEqual({ factor: 20, minAge: 3, minBudget: 0, target: 0.95, reach: 0.5, z: 3, fourierRise: 0.02, window: 100 });
    expect(stop!.reason).toMatch(/no Fourier probe to say otherwise$/);
  });

  it('lets a slow grokker climb: on course for 15 memorization times, and past half its way later', async () => {
    expect(await decide(run(100, (s) => (s < 100 ? 0.01 : Math.min(1, 0.05 + 6e-4 * (s - 100)))))).toEqual([]);
  });

  it('a flat run whose Fourier sparsity rises (a circuit forming) is held off; flat sparsity is not', async () => {
    const flat = (s: number) => (s < 100 ? 0.01 : 0.05);
    // +4% of its level per memorization time (the transformer's plateau: 2.4–5.7%)
    expect(await decide(run(100, flat, undefined, 2000, 10, (s) => 0.2 * (1 + 0.04 * Math.max(0, s - 100) / 100)))).toEqual([]);
    const [stop] = await decide(run(100, flat, undefined, 2000, 10, (s) => 0.2 + (s % 100 === 0 ? 0.001 : 0)));
    expect(stop).toMatchObject({ step: 400 });
    expect(stop!.reason).toMatch(/generalization 0\.0500 \(0\.0500 at memorization\) is not rising \(slope .*the Fourier sparsity is not rising \(-?\d\.\d% per memorization time\)$/);
  });

  it('with weightNormDrop set, a falling weight norm holds the stop off (off by default)', async () => {
    const flat = (s: number) => (s < 100 ? 0.01 : 0.05);
    const shrinking = (s: number) => 30 * Math.exp((-0.03 * Math.max(0, s - 100)) / 100);
    expect(await decide(run(100, flat, shrinking), { precursors: { weightNormDrop: 0.02 } })).toEqual([]);
    expect((await decide(run(100, flat, shrinking)))[0]).toMatchObject({ step: 400 });
    expect((await decide(run(100, flat), { precursors: { weightNormDrop: 0.02 } }))[0]).toMatchObject({ step: 400 });
  });

  it('never stops a run that has covered half its way to the target, nor one that has not memorized', async () => {
    expect(await decide(run(100, (s) => (s <= 100 ? 0.05 : 0.55)))).toEqual([]);
    expect(await decide(run(100_000, () => 0.05))).toEqual([]);
  });

  it('reads sparse evaluations: one every 100 steps (marbles)', () => {
    const views = run(100, (s) => (s < 100 ? 0.01 : 0.05 + 1e-4 * (s - 100)), undefined, 1000, 100);
    const { marbles, values } = frames(views);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold(marbles, values).pipe(noGrokBudget())).toBe(decidesAt(4), { x: expect.objectContaining({ step: 400 }) as never });
      expectObservable(cold(marbles, values).pipe(noGrokBudget({ minAge: 20 }))).toBe(silentOver(views.length));
    });
  });

  it('factor, minAge and minBudget move the decision', async () => {
    const creep = run(100, (s) => (s < 100 ? 0.01 : 0.05 + 1e-4 * (s - 100)));
    expect((await decide(creep, { minAge: 5 }))[0]).toMatchObject({ step: 600 });
    expect(await decide(creep, { factor: 100 })).toEqual([]); // 9,100 is within 100 + 100 × 100
    expect(await decide(creep, { minBudget: 10_000 })).toEqual([]);
  });

  it('validates options', () => {
    expect(() => noGrokBudget({ factor: 0 })).toThrow(/noGrokBudget: option 'factor' must be > 0/);
    expect(() => noGrokBudget({ minAge: -1 })).toThrow(/option 'minAge' must be >= 0/);
    expect(() => noGrokBudget({ reach: 1.5 })).toThrow(/option 'reach' must be ≤ 1/);
    expect(() => noGrokBudget({ precursors: { weightNormDrop: -0.1 } })).toThrow(/precursors\.weightNormDrop/);
  });
});
