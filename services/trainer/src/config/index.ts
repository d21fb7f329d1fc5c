// Public API of the trainer configuration (see schema.ts for keys, defaults and conventions).
export { ConfigError, type ConfigProblem } from './errors.ts';
export { applyOverrides, parseOverride, type Override } from './overrides.ts';
export { configJson, describeConfig, loadConfig, parseConfigYaml, resolveConfig, stableStringify } from './load.ts';
export {
  RunConfigSchema,
  isPrime,
  modularPairCount,
  modularTrainCount,
  trainSetSize,
  type BatchSize,
  type ModelConfig,
  type OptimizerConfig,
  type RunConfig,
  type RunConfigInput,
  type TaskConfig,
} from './schema.ts';
