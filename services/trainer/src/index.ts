export { runTraining, newRunId, MEMORIZED_ACC, GENERALIZED_ACC, type RunOptions, type RunSummary } from './run.ts';
export { ConfigError, configJson, loadConfig, resolveConfig, describeConfig, type RunConfig } from './config/index.ts';
export { chooseBackend, describeBackend, nativeUnavailableReason, BACKEND_ORDER, tf, type BackendName } from './tf.ts';
export { trainLoop, type LoopOptions, type LoopResult, type ProbeFields } from './loop.ts';
export { GROKSTREAM_VERSION } from './version.ts';
export { BoundedEmitter, BusOutageError, type EmitterOptions } from './emitter.ts';
export { findSpills, readSpills, removeSpills, writeSpill } from './spill.ts';
export { latestCheckpoint } from './checkpoint.ts';
