// Early-stop policies: RxJS operators over one run's RunViews, each emitting at most one StopDecision.
export { patience, type PatienceOptions, type PatienceMonitor, type PatienceMode } from './patience.ts';
export { convergedFor, type ConvergedForOptions } from './converged-for.ts';
export { DEGRADATION_DEFAULTS, degradation, type DegradationOptions } from './degradation.ts';
export { noGrokBudget, DEFAULT_PRECURSORS, NO_GROK_DEFAULTS, type NoGrokBudgetOptions, type GrokPrecursors } from './no-grok-budget.ts';
export { DIVERGENCE_DEFAULTS, divergence, type DivergenceOptions, type DivergenceMonitor } from './divergence.ts';
export { statefulPolicy, type PolicyStep } from './stateful-policy.ts';
export { METRIC_FIELDS, type MetricField } from './policy-options.ts';
