// The detector config: every default is the code's own constant (one number in one place), the
// milestones are the ones the trainer reports, and a bad config names the key and what it wants.
import { firstValueFrom, from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { GENERALIZED_TEST_ACC, MEMORIZED_TRAIN_ACC } from '@grokstream/schemas';
import { DetectorConfigError, buildPolicies, detectorOptions, parseDetectorConfig } from './config.ts';
import { runView } from './policies/testing-views.ts';
import { DEFAULT_PHASE_OPTIONS, phaseOptions } from './phase-machine.ts';
import { DEFAULT_MIN_RISE } from './loss-spike.ts';
import { DEFAULT_MIN_PROGRESS, DEFAULT_PRECURSORS, DIVERGENCE_DEFAULTS } from './policies/index.ts';

describe('detector config', () => {
  it('{} gives the phase machine its own defaults, and the default policies', () => {
    const cfg = parseDetectorConfig({}, 'spec');
    const options = detectorOptions(cfg);
    expect(options.phases).toEqual(phaseOptions());
    expect(options.phases).toEqual({ ...DEFAULT_PHASE_OPTIONS, higherIsBetter: true });
    expect(cfg.policies.map((p) => p.kind)).toEqual(['divergence', 'converged', 'degradation']);
    expect(options.policies).toHaveLength(3);
    expect(cfg.detector).toEqual({ name: 'grokstream-phases', version: '1' });
  });

  it('the milestones are the shared ones (schemas/src/milestones.ts), as the trainer reports them', () => {
    expect(DEFAULT_PHASE_OPTIONS.memorizedTrainAcc).toBe(MEMORIZED_TRAIN_ACC);
    expect(DEFAULT_PHASE_OPTIONS.generalizedAt).toBe(GENERALIZED_TEST_ACC);
    expect(parseDetectorConfig({}, 'spec').phases).toMatchObject({ memorized_train_acc: MEMORIZED_TRAIN_ACC, generalized_at: GENERALIZED_TEST_ACC, min_rise: DEFAULT_MIN_RISE });
  });

  it("a policy's defaults are the policy's own constants", () => {
    const cfg = parseDetectorConfig({ policies: [{ kind: 'divergence' }, { kind: 'no_grok_budget' }] }, 'spec');
    expect(cfg.policies[0]).toEqual({ kind: 'divergence', spike_factor: DIVERGENCE_DEFAULTS.spikeFactor, window: DIVERGENCE_DEFAULTS.window, monitor: DIVERGENCE_DEFAULTS.monitor, min_rise: DEFAULT_MIN_RISE });
    expect(cfg.policies[1]).toMatchObject({
      kind: 'no_grok_budget',
      min_progress: DEFAULT_MIN_PROGRESS,
      precursors: { weight_norm_drop: DEFAULT_PRECURSORS.weightNormDrop, effective_rank_drop: DEFAULT_PRECURSORS.effectiveRankDrop, window: DEFAULT_PRECURSORS.window },
    });
  });

  it("no_grok_budget's min_progress reaches the policy: a +0.02 rise is progress at 0.01, not at 0.05", async () => {
    // Memorized at 100 with test accuracy 0.10, then 0.12 until the budget (2 × 100 steps) runs out.
    const views = [0, 100, 200, 300, 400].map((step) =>
      runView(step, { generalization: step < 100 ? 0.05 : step === 100 ? 0.1 : 0.12, memorizedAt: step >= 100 ? 100 : null, metrics: { weight_norm: 1 }, probe: null }),
    );
    const decide = async (minProgress: number) => {
      const [policy] = buildPolicies(parseDetectorConfig({ policies: [{ kind: 'no_grok_budget', factor: 2, min_progress: minProgress }] }, 'spec'));
      return firstValueFrom(from(views).pipe(policy!, toArray()));
    };
    expect(await decide(0.01)).toEqual([]);
    const [stop] = await decide(0.05);
    expect(stop).toMatchObject({ policy: 'no_grok_budget', step: 300, evidence: { thresholds: { minProgress: 0.05 } } });
  });

  it('a value given replaces only its default', () => {
    const options = detectorOptions(parseDetectorConfig({ phases: { window: 80, min_rise: 0.5 } }, 'spec'));
    expect(options.phases).toEqual({ ...phaseOptions(), window: 80, minRise: 0.5 });
  });

  it('a bad config names the key and the problem, as a ConfigurationError', () => {
    const bad = (raw: unknown) => {
      try {
        parseDetectorConfig(raw, 'detector.yaml');
      } catch (err) {
        expect(err).toBeInstanceOf(DetectorConfigError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ phases: { windw: 80 } })).toMatch(/^invalid detector config detector\.yaml:\n {2}phases: .*windw/);
    expect(bad({ phases: { memorized_train_acc: 1.5 } })).toMatch(/phases\.memorized_train_acc: /);
    expect(bad({ policies: [{ kind: 'patience' }] })).toMatch(/policies\.0\.patience: /);
    expect(bad({ policies: [{ kind: 'nope' }] })).toMatch(/policies\.0\.kind: /);
  });
});
