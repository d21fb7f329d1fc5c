export { DetectorService, type DetectorServiceOptions, type DetectorStats } from './service.ts';
export { detectRun, detectRunToEnd, toStopRun, type DetectorOutput, type Policy, type RunCarry, type RunDetectorOptions, type RunOutput } from './detect-run.ts';
export { detectAll, replayEvents } from './replay.ts';
export { RunBook, route, type Route } from './run-book.ts';
export { dropStale } from './drop-stale.ts';
export { isAfter, positionOf, type EventPosition } from './event-position.ts';
export { classifyPhases, type Classified, type DetectorIdentity, type PhaseResume } from './classify-phases.ts';
export {
  phaseOptions,
  stepPhase,
  initialPhaseState,
  phaseCarry,
  resumedPhaseState,
  DEFAULT_PHASE_OPTIONS,
  type PhaseCarry,
  type PhaseOptions,
  type PhaseState,
} from './phase-machine.ts';
export { DetectorConfigError, DetectorConfigSchema, buildPolicies, detectorOptions, loadDetectorConfig, parseDetectorConfig, type DetectorConfig } from './config.ts';
export { JsonLinesError, parseStepLine, parseStepLines } from './jsonl.ts';
export { describeOutput } from './describe.ts';
export type { RunView, Sample, StopDecision } from './views.ts';
