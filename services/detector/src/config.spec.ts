// The detector config: every default is the code's own constant (one number in one place), the
// milestones are the ones the trainer reports, and a bad config names the key and what it wants.
import { firstValueFrom, from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { GENERALIZED_TEST_ACC, MEMORIZED_TRAIN_ACC } from '@grokstream/schemas';
import { DETECTOR_VERSION, DetectorConfigError, buildPolicies, detectorOptions, parseDetectorConfig } from './config.ts';
import { runView } from './policies/testing-views.ts';
import { DEFAULT_PHASE_OPTIONS, phaseOptions } from './phase-machine.ts';
import { DEFAULT_MIN_RISE } from './loss-spike.ts';
import { DEFAULT_PRECURSORS, DEGRADATION_DEFAULTS, DIVERGENCE_DEFAULTS, NO_GROK_DEFAULTS } from './policies/index.ts';

describe('detector config', () => {
  it('{} gives the phase machine its own defaults, and the default policies', () => {
    const cfg = parseDetectorConfig({}, 'spec');
    const options = detectorOptions(cfg);
    expect(options.phases).toEqual(phaseOptions());
    expect(options.phases).toEqual({ ...DEFAULT_PHASE_OPTIONS, higherIsBetter: true });
    expect(cfg.policies.map((p) => p.kind)).toEqual(['divergence', 'converged', 'degradation', 'no_grok_budget']);
    expect(options.policies).toHaveLength(4);
    expect(cfg.detector).toEqual({ name: 'grokstream-phases', version: DETECTOR_VERSION });
  });

  it('the milestones are the shared ones (schemas/src/milestones.ts), as the trainer reports them', () => {
    expect(DEFAULT_PHASE_OPTIONS.memorizedTrainAcc).toBe(MEMORIZED_TRAIN_ACC);
    expect(DEFAULT_PHASE_OPTIONS.generalizedAt).toBe(GENERALIZED_TEST_ACC);
    expect(parseDetectorConfig({}, 'spec').phases).toMatchObject({ memorized_train_acc: MEMORIZED_TRAIN_ACC, generalized_at: GENERALIZED_TEST_ACC, min_rise: DEFAULT_MIN_RISE });
  });

  it("a policy's defaults are the policy's own constants", () => {
    const cfg = parseDetectorConfig({ policies: [{ kind: 'divergence' }, { kind: 'no_grok_budget' }, { kind: 'degradation' }] }, 'spec');
    expect(cfg.policies[0]).toEqual({
      kind: 'divergence',
      spike_factor: DIVERGENCE_DEFAULTS.spikeFactor,
      window: DIVERGENCE_DEFAULTS.window,
      monitor: DIVERGENCE_DEFAULTS.monitor,
      min_rise: DEFAULT_MIN_RISE,
      confirm_steps: DIVERGENCE_DEFAULTS.confirmSteps,
    });
    expect(cfg.policies[1]).toEqual({
      kind: 'no_grok_budget',
      factor: NO_GROK_DEFAULTS.factor,
      min_age: NO_GROK_DEFAULTS.minAge,
      min_budget: NO_GROK_DEFAULTS.minBudget,
      reach: NO_GROK_DEFAULTS.reach,
      z: NO_GROK_DEFAULTS.z,
      precursors: { weight_norm_drop: DEFAULT_PRECURSORS.weightNormDrop, fourier_rise: DEFAULT_PRECURSORS.fourierRise },
    });
    expect(cfg.policies[2]).toEqual({ kind: 'degradation', steps: DEGRADATION_DEFAULTS.steps, share: DEGRADATION_DEFAULTS.share, min_delta: DEGRADATION_DEFAULTS.minDelta });
    expect(DEGRADATION_DEFAULTS.minDelta).toBe(DEFAULT_PHASE_OPTIONS.degradationDrop);
  });

  it("no_grok_budget's settings reach the policy, and its target is the phases' generalized_at, oriented", async () => {
    // Memorized at 100 at 0.10, then creeping +1e-4 a step: hopeless at 20 memorization times, not at 100.
    const views = Array.from({ length: 101 }, (_, i) => i * 10).map((step) =>
      runView(step, { generalization: step < 100 ? 0.05 : 0.1 + 1e-4 * (step - 100), memorizedAt: step >= 100 ? 100 : null, metrics: { weight_norm: 1 + step / 1000 }, probe: null }),
    );
    const decide = async (policy: Record<string, unknown>, phases: Record<string, unknown> = {}) => {
      const [p] = buildPolicies(parseDetectorConfig({ phases, policies: [{ kind: 'no_grok_budget', ...policy }] }, 'spec'));
      return firstValueFrom(from(views).pipe(p!, toArray()));
    };
    expect(await decide({})).toMatchObject([{ policy: 'no_grok_budget', step: 400, evidence: { thresholds: { target: GENERALIZED_TEST_ACC, factor: 20 } } }]);
    expect(await decide({ factor: 100 })).toEqual([]);
    expect(await decide({ min_age: 5 })).toMatchObject([{ step: 600 }]);
    // a lower target within reach: 0.2 is 1,000 steps of creep away, within 20 × 100
    expect(await decide({}, { generalized_at: 0.2 })).toEqual([]);
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
