// The tables events are projected into. One definition feeds the DDL (migrations) and the
// column list of every insert, so the two cannot drift apart.
//
// Idempotence: every table is a ReplacingMergeTree whose sorting key is the identity of a fact
// (a run's step, a command id, a source offset). A redelivered event has the same key, so it
// collapses to one row; queries read through FINAL (see queries in the stores' contract suite).
// The version column is `seq`, so when a resumed run re-emits a step the newer copy wins.
//
// Only types that ClickHouse 18.16 (the Debian server) and 26.x (chdb) both understand:
// no Map, no DateTime64, no LowCardinality, no CODEC/TTL.

export interface Column {
  name: string;
  type: string;
  /** Columns with a DEFAULT expression are computed by ClickHouse and left out of inserts. */
  default?: string;
}

export interface TableSpec {
  name: TableName;
  columns: Column[];
  orderBy: string[];
  version: string;
}

export type TableName = 'runs' | 'run_ends' | 'checkpoints' | 'steps' | 'probes' | 'phases' | 'commands' | 'dead_letters';

const ENVELOPE: Column[] = [
  { name: 'event_id', type: 'String' },
  { name: 'run_id', type: 'String' },
  { name: 'seq', type: 'UInt64' },
  { name: 'ts_ms', type: 'UInt64' },
  // Second resolution for Grafana's time filters; derived so writers cannot disagree.
  { name: 'ts', type: "DateTime('UTC')", default: "toDateTime(intDiv(ts_ms, 1000), 'UTC')" },
  // When ingest wrote the row: the pipeline-health dashboard's ingest lag is ingested_at - ts.
  { name: 'ingested_at', type: "DateTime('UTC')", default: 'now()' },
];

const f64 = (name: string): Column => ({ name, type: 'Float64' });
const nf64 = (name: string): Column => ({ name, type: 'Nullable(Float64)' });
const keyed = (prefix: string, valueType = 'Float64'): Column[] => [
  { name: `${prefix}_keys`, type: 'Array(String)' },
  { name: `${prefix}_values`, type: `Array(${valueType})` },
];

export const TABLES: Record<TableName, TableSpec> = {
  runs: {
    name: 'runs',
    columns: [
      ...ENVELOPE,
      { name: 'task', type: 'String' },
      { name: 'model', type: 'String' },
      { name: 'config_json', type: 'String' },
      { name: 'seed_data', type: 'Int64' },
      { name: 'seed_init', type: 'Int64' },
      { name: 'seed_order', type: 'Int64' },
      { name: 'layer_names', type: 'Array(String)' },
      { name: 'param_count', type: 'UInt64' },
      { name: 'backend', type: 'String' },
      { name: 'host', type: 'String' },
      { name: 'grokstream_version', type: 'String' },
      { name: 'resumed_from_step', type: 'Nullable(Int64)' },
      ...keyed('tag', 'String'),
    ],
    orderBy: ['run_id'],
    version: 'seq',
  },
  run_ends: {
    name: 'run_ends',
    columns: [
      ...ENVELOPE,
      { name: 'step', type: 'Int64' },
      { name: 'reason', type: 'String' },
      { name: 'command_id', type: 'Nullable(String)' },
      { name: 'error', type: 'Nullable(String)' },
      ...keyed('summary'),
    ],
    orderBy: ['run_id'],
    version: 'seq',
  },
  checkpoints: {
    name: 'checkpoints',
    columns: [
      ...ENVELOPE,
      { name: 'step', type: 'Int64' },
      { name: 'uri', type: 'String' },
      { name: 'bytes', type: 'UInt64' },
      { name: 'sha256', type: 'Nullable(String)' },
    ],
    orderBy: ['run_id', 'step'],
    version: 'seq',
  },
  steps: {
    name: 'steps',
    columns: [
      ...ENVELOPE,
      { name: 'step', type: 'Int64' },
      f64('train_loss'),
      nf64('train_acc'),
      nf64('test_loss'),
      nf64('test_acc'),
      f64('lr'),
      f64('weight_norm'),
      { name: 'layer_norms', type: 'Array(Float64)' },
      nf64('grad_norm_sq'),
      nf64('update_norm'),
      nf64('softmax_collapse_frac'),
      nf64('last_layer_norm'),
      nf64('init_distance'),
      ...keyed('extra'),
    ],
    orderBy: ['run_id', 'step'],
    version: 'seq',
  },
  probes: {
    name: 'probes',
    columns: [
      ...ENVELOPE,
      { name: 'step', type: 'Int64' },
      { name: 'probe_batch_size', type: 'UInt32' },
      nf64('grad_noise_trace'),
      nf64('grad_snr'),
      nf64('tr_h_sigma'),
      nf64('hessian_trace'),
      nf64('hessian_trace_avg'),
      nf64('hessian_top_eig'),
      // GOP summaries as parallel arrays, one element per scope ('model', then each layer).
      { name: 'gop_scope', type: 'Array(String)' },
      { name: 'gop_trace', type: 'Array(Float64)' },
      { name: 'gop_frobenius', type: 'Array(Float64)' },
      { name: 'gop_spectral', type: 'Array(Float64)' },
      { name: 'gop_top_eigs', type: 'Array(Array(Float64))' },
      { name: 'gop_effective_rank', type: 'Array(Float64)' },
      { name: 'gop_numerical_rank', type: 'Array(UInt32)' },
      { name: 'gop_condition_number', type: 'Array(Float64)' },
      ...keyed('extra'),
      nf64('elapsed_ms'),
    ],
    orderBy: ['run_id', 'step'],
    version: 'seq',
  },
  phases: {
    name: 'phases',
    columns: [
      ...ENVELOPE,
      { name: 'step', type: 'Int64' },
      { name: 'phase', type: 'String' },
      { name: 'previous_phase', type: 'Nullable(String)' },
      { name: 'window_start', type: 'Int64' },
      { name: 'window_end', type: 'Int64' },
      ...keyed('value'),
      ...keyed('threshold'),
      { name: 'detector', type: 'String' },
      { name: 'detector_version', type: 'String' },
    ],
    orderBy: ['run_id', 'detector', 'step', 'phase'],
    version: 'seq',
  },
  commands: {
    name: 'commands',
    columns: [
      ...ENVELOPE,
      { name: 'command_id', type: 'String' },
      { name: 'policy', type: 'String' },
      { name: 'reason', type: 'String' },
      { name: 'step', type: 'Int64' },
      { name: 'window_start', type: 'Int64' },
      { name: 'window_end', type: 'Int64' },
      ...keyed('value'),
      ...keyed('threshold'),
      { name: 'issued_by', type: 'String' },
    ],
    orderBy: ['run_id', 'command_id'],
    version: 'seq',
  },
  dead_letters: {
    name: 'dead_letters',
    columns: [
      ...ENVELOPE,
      { name: 'source_topic', type: 'String' },
      { name: 'source_partition', type: 'UInt32' },
      { name: 'source_offset', type: 'UInt64' },
      { name: 'key', type: 'Nullable(String)' },
      { name: 'payload', type: 'String' },
      { name: 'error_kind', type: 'String' },
      { name: 'reason', type: 'String' },
      { name: 'consumer', type: 'String' },
    ],
    orderBy: ['source_topic', 'source_partition', 'source_offset', 'consumer'],
    version: 'ts_ms',
  },
};

export const TABLE_NAMES = Object.keys(TABLES) as TableName[];

export function insertColumns(table: TableName): string[] {
  return TABLES[table].columns.filter((c) => c.default === undefined).map((c) => c.name);
}

export function createTableSql(db: string, spec: TableSpec): string {
  const cols = spec.columns
    .map((c) => `  ${c.name} ${c.type}${c.default ? ` DEFAULT ${c.default}` : ''}`)
    .join(',\n');
  return (
    `CREATE TABLE IF NOT EXISTS ${db}.${spec.name} (\n${cols}\n) ` +
    `ENGINE = ReplacingMergeTree(${spec.version}) ORDER BY (${spec.orderBy.join(', ')})`
  );
}
