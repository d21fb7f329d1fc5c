import { describe, expect, it } from 'vitest';
import { exampleStepMetrics, type PhaseChanged } from '@grokstream/schemas';
import { detectorOptions, parseDetectorConfig } from '../config.ts';
import { syntheticSet } from './trajectories.ts';
import { fromSynthetic } from './eval-run.ts';
import { paintPhases, scoreRun, scoreRuns } from './score.ts';

const options = detectorOptions(parseDetectorConfig({}, '(defaults)'));
const change = (step: number, phase: PhaseChanged['phase']) => ({ step, phase }) as PhaseChanged;

describe('evaluation scoring', () => {
  it('paints phases from the changes, a later change overruling earlier ones from its step on', () => {
    expect(paintPhases([1, 2, 3, 4, 5, 6], [change(2, 'MEMORIZATION'), change(5, 'PLATEAU'), change(4, 'GROKKING')])).toEqual([
      'WARMUP',
      'MEMORIZATION',
      'MEMORIZATION',
      'GROKKING',
      'GROKKING',
      'GROKKING',
    ]);
  });

  it('is deterministic on the synthetic set and finds every grokking onset close to the truth', async () => {
    const a = await scoreRuns(syntheticSet().map(fromSynthetic), options);
    const b = await scoreRuns(syntheticSet().map(fromSynthetic), options);
    expect(b).toEqual(a);
    expect(a.missedOnsets).toBe(0);
    expect(a.maxAbsOnsetErrorPct!).toBeLessThan(3);
    for (const p of ['WARMUP', 'PLATEAU', 'CONVERGED', 'DEGRADATION', 'DIVERGED'] as const) expect(a.perPhase[p]!.f1!, p).toBeGreaterThan(0.85);
  });

  it('counts a stop before the grok step as premature, and a hopeless run stopped by half its length as stopped in half', async () => {
    // Memorized at 50, never generalizes; 2,000 steps: the default policies must stop it by 1,000.
    const steps = Array.from({ length: 2000 }, (_, i) =>
      exampleStepMetrics({ run_id: 'h', step: i + 1, train_acc: Math.min(1, (i + 1) / 50), test_acc: 0.05 + 0.001 * Math.sin(i), train_loss: Math.max(1e-3, 1 - (i + 1) / 50), weight_norm: 10 + i / 100 }),
    );
    const run = fromSynthetic({ name: 'h', kind: 'synthetic', steps, labels: steps.map(() => 'PLATEAU'), grokkingOnset: null });
    const { score } = await scoreRun(run, options);
    expect(score.hopeless).toBe(true);
    expect(score.stop?.policy).toBe('no_grok_budget');
    expect(score.stoppedInHalf).toBe(true);
    expect(score.premature).toBe(false);
    expect(score.stepsSaved).toBe(2000 - score.stop!.step);
  });
});
