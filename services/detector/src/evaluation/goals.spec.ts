import { describe, expect, it } from 'vitest';
import { checkGoals, GOALS } from './goals.ts';
import type { Score } from './score.ts';

function score(f1: number, premature = 0): Score {
  const perPhase = Object.fromEntries(['WARMUP', 'MEMORIZATION', 'PLATEAU', 'GROKKING', 'CONVERGED', 'DEGRADATION', 'DIVERGED'].map((p) => [p, { precision: f1, recall: f1, f1, labelled: 1, predicted: 1 }]));
  return {
    perPhase,
    runs: [],
    meanAbsOnsetErrorPct: 0.5,
    maxAbsOnsetErrorPct: 1,
    maxAbsGrokStepErrorPct: 0.2,
    missedOnsets: 0,
    missedGrokSteps: 0,
    stops: 1,
    premature,
    stopPrecision: 1,
    hopeless: 1,
    stopRecall: 1,
    stepsSaved: 10,
    totalSteps: 100,
  };
}

describe('goals ratchet', () => {
  it('marks goals met or missed; a goal reached before and missed now is a regression', () => {
    const good = checkGoals({ reached: [] }, { synthetic: score(0.95), recorded: score(0.95) });
    expect(good.regressions).toEqual([]);
    expect(good.results.find((r) => r.id === 'recorded F1 GROKKING')).toMatchObject({ status: 'met', value: 0.95 });
    expect(good.updated.reached).toContain('recorded F1 GROKKING');
    const worse = checkGoals(good.updated, { synthetic: score(0.95), recorded: score(0.8, 1) });
    expect(worse.regressions).toContain('recorded F1 GROKKING');
    expect(worse.regressions).toContain('premature stops, recorded + synthetic');
    expect(worse.results.find((r) => r.id === 'recorded F1 GROKKING')!.status).toBe('REGRESSED');
    // what was reached stays reached in the file, even while it is regressed
    expect(worse.updated.reached).toEqual(good.updated.reached);
    // a goal never reached and missed now is just missed
    expect(checkGoals({ reached: [] }, { synthetic: score(0.8), recorded: score(0.8) }).regressions).toEqual([]);
  });

  it('refuses a goals file naming a goal that does not exist', () => {
    expect(() => checkGoals({ reached: ['no such goal'] }, { synthetic: score(1), recorded: score(1) })).toThrow(/no such goal/);
    expect(new Set(GOALS.map((g) => g.id)).size).toBe(GOALS.length);
  });
});
