// Detector configuration: which phase thresholds and which early-stop policies. YAML or JSON,
// validated once at the edge; every key has a default, so `{}` is a working configuration.
import { readFileSync } from 'node:fs';
import { DEFAULT_MIN_RISE } from './loss-spike.ts';
import * as z from 'zod';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_PHASE_OPTIONS as D, phaseOptions, type PhaseOptions } from './phase-machine.ts';
import { DEFAULT_PRECURSORS, DEGRADATION_DEFAULTS, DIVERGENCE_DEFAULTS, METRIC_FIELDS, NO_GROK_DEFAULTS, convergedFor, degradation, divergence, noGrokBudget, patience } from './policies/index.ts';
import type { Policy, RunDetectorOptions } from './detect-run.ts';
import { ConfigurationError } from '@grokstream/shell';

const Metric = z.enum(METRIC_FIELDS);

/**
 * The default detector's version, in every PhaseChanged and StopRun it issues (and in their
 * deterministic ids): 2 since rises are judged by fitted slopes, divergence needs a climbing
 * loss and the hopeless-run stop is a default policy (issue 11).
 */
export const DETECTOR_VERSION = '2';

// Every default is the phase machine's own (DEFAULT_PHASE_OPTIONS): one number in one place.
const Phases = z.strictObject({
  metric: Metric.default(D.metric),
  higher_is_better: z.boolean().optional(),
  memorized_train_acc: z.number().gt(0).max(1).default(D.memorizedTrainAcc),
  memorized_train_loss: z.number().positive().nullable().default(D.memorizedTrainLoss),
  generalized_at: z.number().default(D.generalizedAt),
  warmup_steps: z.int().min(0).default(D.warmupSteps),
  window: z.int().positive().default(D.window),
  // A rise is real when slope − rise_z × its standard error > 0, and matters when at its pace it
  // would generalize within grok_horizon memorization times (phase-machine.ts).
  rise_z: z.number().min(0).default(D.riseZ),
  grok_horizon: z.number().positive().default(D.grokHorizon),
  plateau_steps: z.int().positive().default(D.plateauSteps),
  degradation_drop: z.number().positive().default(D.degradationDrop),
  spike_factor: z.number().gt(1).default(D.spikeFactor),
  min_rise: z.number().min(0).default(D.minRise),
  confirm_steps: z.int().positive().default(D.confirmSteps),
});

const PolicyConfig = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('patience'),
    monitor: z.union([Metric, z.literal('generalization')]).default('generalization'),
    min_delta: z.number().min(0).default(0),
    patience: z.int().positive(),
    mode: z.enum(['auto', 'min', 'max']).default('auto'),
    baseline: z.number().optional(),
    start_from_step: z.int().min(0).default(0),
  }),
  z.strictObject({ kind: z.literal('converged'), steps: z.int().positive().default(200) }),
  z.strictObject({
    kind: z.literal('degradation'),
    // stop max(steps, share × the best's step) steps past the best, once below it by min_delta
    steps: z.int().positive().default(DEGRADATION_DEFAULTS.steps),
    share: z.number().min(0).default(DEGRADATION_DEFAULTS.share),
    min_delta: z.number().min(0).default(DEGRADATION_DEFAULTS.minDelta),
  }),
  z.strictObject({
    kind: z.literal('no_grok_budget'),
    // hopeless: the projected grok step lies beyond factor × M after memorization at M
    factor: z.number().positive().default(NO_GROK_DEFAULTS.factor),
    min_age: z.number().min(0).default(NO_GROK_DEFAULTS.minAge),
    min_budget: z.int().min(0).default(NO_GROK_DEFAULTS.minBudget),
    reach: z.number().gt(0).max(1).default(NO_GROK_DEFAULTS.reach),
    z: z.number().min(0).default(NO_GROK_DEFAULTS.z),
    precursors: z
      .strictObject({
        weight_norm_drop: z.number().min(0).nullable().default(DEFAULT_PRECURSORS.weightNormDrop),
        fourier_rise: z.number().min(0).default(DEFAULT_PRECURSORS.fourierRise),
      })
      .prefault({}),
  }),
  z.strictObject({
    kind: z.literal('divergence'),
    spike_factor: z.number().gt(1).default(DIVERGENCE_DEFAULTS.spikeFactor),
    window: z.int().positive().default(DIVERGENCE_DEFAULTS.window),
    monitor: z.enum(['train_loss', 'test_loss']).default(DIVERGENCE_DEFAULTS.monitor),
    // ...and a rise of more than min_rise × the run's first loss (zero-safe: loss-spike.ts)
    min_rise: z.number().min(0).default(DEFAULT_MIN_RISE),
    // ...that stays above the spike level for confirm_steps values while it climbs (1: the spike alone)
    confirm_steps: z.int().positive().default(DIVERGENCE_DEFAULTS.confirmSteps),
  }),
]);

export const DetectorConfigSchema = z.strictObject({
  detector: z.strictObject({ name: z.string().min(1).default('grokstream-phases'), version: z.string().min(1).default(DETECTOR_VERSION) }).prefault({}),
  phases: Phases.prefault({}),
  // prefault, not default: the default list is parsed too, so its policies get their defaults.
  policies: z.array(PolicyConfig).prefault([{ kind: 'divergence' }, { kind: 'converged' }, { kind: 'degradation' }, { kind: 'no_grok_budget' }]),
});

export type DetectorConfig = z.output<typeof DetectorConfigSchema>;

/** A bad detector config: a ConfigurationError, so every command exits 2 with its message. */
export class DetectorConfigError extends ConfigurationError {
  override readonly name = 'DetectorConfigError';
}

export function parseDetectorConfig(raw: unknown, source: string): DetectorConfig {
  const result = DetectorConfigSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(top)'}: ${i.message}`);
  throw new DetectorConfigError(`invalid detector config ${source}:\n${lines.join('\n')}`);
}

export function loadDetectorConfig(file: string | undefined): DetectorConfig {
  if (!file) return parseDetectorConfig({}, '(defaults)');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DetectorConfigError(`cannot read detector config ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new DetectorConfigError(`${file}: not valid YAML (${(err as Error).message})`);
  }
  return parseDetectorConfig(raw, file);
}

export function buildPolicies(cfg: DetectorConfig): Policy[] {
  // The generalization policies see is oriented higher-is-better, as the phase machine's.
  const higher = cfg.phases.higher_is_better ?? cfg.phases.metric.endsWith('_acc');
  const target = higher ? cfg.phases.generalized_at : -cfg.phases.generalized_at;
  return cfg.policies.map((p): Policy => {
    switch (p.kind) {
      case 'patience':
        return patience({ monitor: p.monitor, minDelta: p.min_delta, patience: p.patience, mode: p.mode, baseline: p.baseline, startFromStep: p.start_from_step });
      case 'converged':
        return convergedFor({ steps: p.steps });
      case 'degradation':
        return degradation({ steps: p.steps, share: p.share, minDelta: p.min_delta });
      case 'no_grok_budget':
        return noGrokBudget({ factor: p.factor, minAge: p.min_age, minBudget: p.min_budget, target, reach: p.reach, z: p.z, precursors: { weightNormDrop: p.precursors.weight_norm_drop, fourierRise: p.precursors.fourier_rise } });
      case 'divergence':
        return divergence({ spikeFactor: p.spike_factor, window: p.window, monitor: p.monitor, minRise: p.min_rise, confirmSteps: p.confirm_steps });
    }
  });
}

export function detectorOptions(cfg: DetectorConfig): RunDetectorOptions {
  const p = cfg.phases;
  const phases: PhaseOptions = phaseOptions({
    metric: p.metric,
    ...(p.higher_is_better === undefined ? {} : { higherIsBetter: p.higher_is_better }),
    memorizedTrainAcc: p.memorized_train_acc,
    memorizedTrainLoss: p.memorized_train_loss,
    generalizedAt: p.generalized_at,
    warmupSteps: p.warmup_steps,
    window: p.window,
    riseZ: p.rise_z,
    grokHorizon: p.grok_horizon,
    plateauSteps: p.plateau_steps,
    degradationDrop: p.degradation_drop,
    spikeFactor: p.spike_factor,
    minRise: p.min_rise,
    confirmSteps: p.confirm_steps,
  });
  return { identity: { detector: cfg.detector.name, version: cfg.detector.version }, phases, policies: buildPolicies(cfg) };
}
