// Sweeps: the grid, point identities, --rerun, and the summary (services/sweep/README.md).
export { expandRange, MAX_POINTS, sweepAxes, sweepPoints, SweepSpecError, type GridSpec, type SweepAxis, type SweepPoint } from './grid.ts';
export { canonicalJson, configHash, NOT_TRAINING, sweepId } from './point-identity.ts';
export { parseRerun, type PointFilter } from './rerun.ts';
export { stepsSaved, summaryTable, type PointResult } from './summary.ts';
export { pointRunId, readFinished, writeFinished, type FinishedMarker } from './point-run.ts';
