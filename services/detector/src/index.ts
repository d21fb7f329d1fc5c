export { DetectorService, type DetectorServiceOptions, type DetectorStats } from './service.ts';
export { detectRun, toStopRun, type DetectorOutput, type Policy, type RunDetectorOptions } from './detect-run.ts';
export { detectAll, replayEvents } from './replay.ts';
export { classifyPhases, type Classified, type DetectorIdentity } from './classify-phases.ts';
export { phaseOptions, stepPhase, initialPhaseState, DEFAULT_PHASE_OPTIONS, type PhaseOptions, type PhaseState } from './phase-machine.ts';
export { DetectorConfigError, DetectorConfigSchema, buildPolicies, detectorOptions, loadDetectorConfig, parseDetectorConfig, type DetectorConfig } from './config.ts';
export { JsonLinesError, parseStepLine, parseStepLines } from './jsonl.ts';
export { describeOutput } from './describe.ts';
export type { RunView, Sample, StopDecision } from './views.ts';
