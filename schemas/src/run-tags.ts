// Run tags with a meaning across services (RunStarted.tags; the store's runs.tag_keys/tag_values).
// `grokstream sweep` sets them; the store's run_summary, the dashboards and the report read them.

/** The sweep a run belongs to (run_summary.sweep). */
export const SWEEP_TAG = 'sweep';
/** The run's point in its sweep (its index) and the hash of its resolved config (finished points are skipped by it). */
export const POINT_TAG = 'point';
export const CONFIG_HASH_TAG = 'config_hash';
/** Prefix of one tag per key the sweep varied: `swept:task.train_fraction` = `0.3`. */
export const SWEPT_TAG = 'swept:';
