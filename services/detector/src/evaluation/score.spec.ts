import { describe, expect, it } from 'vitest';
import { phaseOptions } from '../phase-machine.ts';
import { syntheticSet } from './trajectories.ts';
import { scoreRuns } from './score.ts';

describe('evaluation on the synthetic set', () => {
  it('is deterministic and finds every grokking onset close to the truth', async () => {
    const runs = syntheticSet();
    const a = await scoreRuns(runs, phaseOptions());
    const b = await scoreRuns(syntheticSet(), phaseOptions());
    expect(b).toEqual(a);
    expect(a.missedOnsets).toBe(0);
    expect(a.meanAbsOnsetError!).toBeLessThan(30);
    // The labelled phases the detector must get mostly right.
    for (const p of ['GROKKING', 'CONVERGED', 'DEGRADATION', 'DIVERGED'] as const) {
      expect(a.perPhase[p]!.recall!, p).toBeGreaterThan(0.6);
      expect(a.perPhase[p]!.precision!, p).toBeGreaterThan(0.6);
    }
  });
});
