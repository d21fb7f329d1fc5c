// Rollups: what keeps dashboards fast at 10 million step rows and more (dashboards/README.md, "Rollups").
//
// step_rollups holds every curve of every run downsampled by step bucket, at three widths (10,
// 100 and 1000 steps), in long form: one row per (run, metric, width, bucket) with the min, max,
// avg and last value of the bucket as aggregate states. Two materialized views feed it, one from
// `steps` and one from `probes`, so ingest writes nothing extra. Metric names:
//   train_loss, test_acc, ...            a StepMetrics or ProbeSummary field
//   layer_norm@2                         the weight norm of the run's second layer (runs.layer_names[2])
//   extra.<key>                          a field of the event's `extra` map (e.g. extra.fourier_sparsity)
//   gop_effective_rank@<scope>           a GOP summary of one scope ('model' or a layer name)
//   gop_eig3@<scope>                     the third largest GOP eigenvalue of a scope (the top ROLLUP_EIGS)
// A query picks the coarsest width that still gives the points it wants (series.ts), and reads
// raw rows when even width 10 is too coarse.
//
// run_summaries holds one row per run, fed by views from runs, phases, commands, run_ends and
// steps; the view `run_summary` merges it into plain columns.
//
// Idempotence: min, max and last (argMax by step) are the same however often a row is seen. The
// avg is not: a step that ingest delivers twice (only after a crash between its insert and its
// offset commit) weighs twice in its bucket's avg until the bucket is rebuilt
// (rebuildRollupsSql). The views see only the rows of each insert, not FINAL's merged table.
//
// Both engines run this: ClickHouse 18.16 has no arrayFlatten and no multiple-level subquery in
// views, so the GOP eigenvalues are spelled out per index here instead.

import { GENERALIZED_TEST_ACC, MEMORIZED_TRAIN_ACC, STEP_METRIC_FIELDS } from '@grokstream/schemas';

export const ROLLUP_WIDTHS = [10, 100, 1000] as const;
/** How many of the top GOP eigenvalues per scope the rollup keeps (the trainer's default top_k is 8). */
export const ROLLUP_EIGS = 8;

/** Scalar StepMetrics fields, in the order the rollup lists them. */
export const STEP_METRICS = STEP_METRIC_FIELDS;

/** Scalar ProbeSummary fields. */
export const PROBE_METRICS = [
  'grad_noise_trace',
  'grad_snr',
  'tr_h_sigma',
  'hessian_trace',
  'hessian_trace_avg',
  'hessian_top_eig',
] as const;

/** Per-scope GOP summaries (ProbeSummary.gop), as `<name>@<scope>`. */
export const GOP_METRICS = ['gop_trace', 'gop_frobenius', 'gop_spectral', 'gop_effective_rank', 'gop_numerical_rank', 'gop_condition_number'] as const;

const nullable = (x: string) => `toNullable(toFloat64(${x}))`;
/**
 * An array's values as Nullable, cut or padded with NULL to the length of its names array: ARRAY
 * JOIN needs equal lengths, and a malformed row must not fail the insert that feeds the view.
 */
const aligned = (values: string, names: string) => `arrayResize(arrayMap(x -> ${nullable('x')}, ${values}), length(${names}), NULL)`;

/**
 * A family of metrics of one source row: one scalar field, or an array-valued group
 * (layer_norm@i, extra.<key>, gop_<summary>@<scope>, gop_eig<k>@<scope>), as the (names,
 * values) arrays that ARRAY JOIN zips into one row per metric.
 */
interface Family {
  name: string;
  scalar?: boolean;
  names: string;
  values: string;
}

const scalar = (m: string): Family => ({ name: m, scalar: true, names: `'${m}'`, values: nullable(m) });

const extraFamily: Family = { name: 'extra', names: `arrayMap(k -> concat('extra.', k), extra_keys)`, values: aligned('extra_values', 'extra_keys') };

const STEP_FAMILIES: Family[] = [
  ...STEP_METRICS.map(scalar),
  {
    name: 'layer_norm',
    names: `arrayMap(i -> concat('layer_norm@', toString(i)), arrayEnumerate(layer_norms))`,
    values: `arrayMap(x -> ${nullable('x')}, layer_norms)`,
  },
  extraFamily,
];

/** gop_top_eigs cut or padded (with empty arrays) to one entry per scope. */
const EIGS = 'arrayResize(gop_top_eigs, length(gop_scope))';

const PROBE_FAMILIES: Family[] = [
  ...PROBE_METRICS.map(scalar),
  ...GOP_METRICS.map((m) => ({ name: m, names: `arrayMap(s -> concat('${m}@', s), gop_scope)`, values: aligned(m, 'gop_scope') })),
  ...Array.from({ length: ROLLUP_EIGS }, (_, i) => ({
    name: 'gop_eig',
    names: `arrayMap(s -> concat('gop_eig${i + 1}@', s), arrayFilter((s, e) -> length(e) > ${i}, gop_scope, ${EIGS}))`,
    values: `arrayMap(e -> ${nullable(`e[${i + 1}]`)}, arrayFilter(e -> length(e) > ${i}, ${EIGS}))`,
  })),
  extraFamily,
];

/** Names of the metric families of a source (what `longFormSql`'s `families` picks from). */
export function metricFamilies(source: 'steps' | 'probes'): string[] {
  return [...new Set((source === 'steps' ? STEP_FAMILIES : PROBE_FAMILIES).map((f) => f.name))];
}

/** The ARRAY JOIN of a source's metrics: all of them, or only those of `families`. */
function arrayJoinSql(source: 'steps' | 'probes', families?: string[]): string {
  const all = source === 'steps' ? STEP_FAMILIES : PROBE_FAMILIES;
  const picked = families ? all.filter((f) => families.includes(f.name)) : all;
  const scalars = picked.filter((f) => f.scalar);
  const parts = [
    ...(scalars.length ? [{ names: `[${scalars.map((f) => f.names).join(', ')}]`, values: `[${scalars.map((f) => f.values).join(', ')}]` }] : []),
    ...picked.filter((f) => !f.scalar),
  ];
  // No family of this source: an empty ARRAY JOIN, which yields no rows.
  const concat = (xs: string[], empty: string) => (xs.length === 0 ? empty : xs.length === 1 ? xs[0]! : `arrayConcat(${xs.join(', ')})`);
  const names = concat(parts.map((p) => p.names), 'CAST([] AS Array(String))');
  const values = concat(parts.map((p) => p.values), 'CAST([] AS Array(Nullable(Float64)))');
  return `ARRAY JOIN ${names} AS metric, ${values} AS maybe_value`;
}

/**
 * Long form of a source table: (run_id, step, ts, metric, value) for every non-null value, read
 * through FINAL (one row per step) unless `final` is false; only the metric families in
 * `families` (metricFamilies) when given, which 18.16 analyses much faster than all of them.
 */
export function longFormSql(db: string, source: 'steps' | 'probes', where = '', final = true, families?: string[]): string {
  return (
    `SELECT run_id, step, ts, metric, assumeNotNull(maybe_value) AS value FROM ${db}.${source}${final ? ' FINAL' : ''} ` +
    `${arrayJoinSql(source, families)} WHERE isNotNull(maybe_value)${where ? ` AND (${where})` : ''}`
  );
}

/**
 * The SELECT that turns source rows into rollup states; the views and the backfill share it.
 * One level, no subquery: 18.16 loses a subquery's aliases when it pushes a block to a view.
 */
function rollupSelectSql(db: string, source: 'steps' | 'probes', where = ''): string {
  const value = 'assumeNotNull(maybe_value)';
  return (
    `SELECT run_id, metric, arrayJoin([${ROLLUP_WIDTHS.map((w) => `toUInt32(${w})`).join(', ')}]) AS width, intDiv(step, width) AS bucket, ` +
    `minState(${value}) AS min_value, maxState(${value}) AS max_value, avgState(${value}) AS avg_value, ` +
    `argMaxState(${value}, step) AS last_value, maxState(ts) AS last_ts ` +
    `FROM ${db}.${source} ${arrayJoinSql(source)} WHERE isNotNull(maybe_value)${where ? ` AND (${where})` : ''} ` +
    `GROUP BY run_id, metric, width, bucket`
  );
}

export function stepRollupsTableSql(db: string): string {
  return (
    `CREATE TABLE IF NOT EXISTS ${db}.step_rollups (` +
    `run_id String, metric String, width UInt32, bucket Int64, ` +
    `min_value AggregateFunction(min, Float64), max_value AggregateFunction(max, Float64), ` +
    `avg_value AggregateFunction(avg, Float64), last_value AggregateFunction(argMax, Float64, Int64), ` +
    `last_ts AggregateFunction(max, DateTime('UTC'))` +
    `) ENGINE = AggregatingMergeTree() ORDER BY (run_id, metric, width, bucket)`
  );
}

export function stepRollupsViewSql(db: string, source: 'steps' | 'probes'): string {
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.step_rollups_from_${source} TO ${db}.step_rollups AS ${rollupSelectSql(db, source)}`;
}

/** Fills step_rollups from the rows already stored (`where` narrows it, e.g. to one run). */
export function backfillStepRollupsSql(db: string, source: 'steps' | 'probes', where = ''): string {
  return `INSERT INTO ${db}.step_rollups ${rollupSelectSql(db, source, where)}`;
}

// --- run summaries --------------------------------------------------------------------------

/**
 * Hyperparameters a sweep varies, read out of config_json. visitParamExtract* finds a key at any
 * depth (18.16 has no JSONExtract); the trainer's config keys are distinct enough for these.
 * `width` is model.width, or the first entry of model.hidden.
 */
export const HYPERPARAMETERS: { name: string; sql: string; when: string }[] = [
  { name: 'lr', sql: `visitParamExtractFloat(config_json, 'lr')`, when: `visitParamHas(config_json, 'lr')` },
  { name: 'weight_decay', sql: `visitParamExtractFloat(config_json, 'weight_decay')`, when: `visitParamHas(config_json, 'weight_decay')` },
  { name: 'train_fraction', sql: `visitParamExtractFloat(config_json, 'train_fraction')`, when: `visitParamHas(config_json, 'train_fraction')` },
  {
    name: 'width',
    when: `visitParamHas(config_json, 'width') OR visitParamHas(config_json, 'hidden')`,
    sql:
      `if(visitParamHas(config_json, 'width'), visitParamExtractFloat(config_json, 'width'), ` +
      `toFloat64OrZero(replaceRegexpOne(visitParamExtractRaw(config_json, 'hidden'), '^\\\\[\\\\s*([0-9.]+).*$', '\\\\1')))`,
  },
  { name: 'seed', sql: `toFloat64(seed_init)`, when: '1' },
];

// run_summaries: every column is an -If aggregate state (argMaxIf, minIf, maxIf), because
// ClickHouse 18.16 wants a view to write every column of its target: each source's view writes
// real states for the columns it feeds and empty ones (condition 0) for the rest.

type SummaryFn = 'argMax' | 'min' | 'max';

interface SummaryColumn {
  name: string;
  fn: SummaryFn;
  /** The value's type, and for argMax the ordering key's. */
  type: string;
  keyType?: string;
}

const DEFAULT_OF: Record<string, string> = {
  String: "''",
  Float64: 'toFloat64(0)',
  Int64: 'toInt64(0)',
  UInt64: 'toUInt64(0)',
  "DateTime('UTC')": "toDateTime(0, 'UTC')",
};

const col = (name: string, fn: SummaryFn, type: string, keyType?: string): SummaryColumn =>
  keyType ? { name, fn, type, keyType } : { name, fn, type };

const SUMMARY_COLUMNS: SummaryColumn[] = [
  col('started', 'min', "DateTime('UTC')"),
  col('task', 'argMax', 'String', 'UInt64'),
  col('model', 'argMax', 'String', 'UInt64'),
  col('backend', 'argMax', 'String', 'UInt64'),
  col('sweep', 'argMax', 'String', 'UInt64'),
  col('config_json', 'argMax', 'String', 'UInt64'),
  ...HYPERPARAMETERS.map((h) => col(h.name, 'argMax', 'Float64', 'UInt64')),
  col('memorized_step', 'min', 'Int64'),
  col('generalized_step', 'min', 'Int64'),
  col('memorization_at', 'min', 'Int64'),
  col('grokking_at', 'min', 'Int64'),
  col('converged_at', 'min', 'Int64'),
  col('last_phase', 'argMax', 'String', 'Int64'),
  col('stop_policy', 'argMax', 'String', 'UInt64'),
  col('stop_reason', 'argMax', 'String', 'UInt64'),
  col('ended', 'argMax', 'String', 'UInt64'),
  col('last_step', 'max', 'Int64'),
  col('final_train_acc', 'argMax', 'Float64', 'Int64'),
  col('final_test_acc', 'argMax', 'Float64', 'Int64'),
  col('final_train_loss', 'argMax', 'Float64', 'Int64'),
  col('final_test_loss', 'argMax', 'Float64', 'Int64'),
];

/** What a source feeds into a column: the value, the argMax key, and when (default: always). */
interface Feed {
  value: string;
  key?: string;
  when?: string;
}

const SUMMARY_SOURCES: Record<string, Record<string, Feed>> = {
  runs: {
    started: { value: 'ts' },
    task: { value: 'task', key: 'seq' },
    model: { value: 'model', key: 'seq' },
    backend: { value: 'backend', key: 'seq' },
    sweep: { value: `if(has(tag_keys, 'sweep'), tag_values[indexOf(tag_keys, 'sweep')], '')`, key: 'seq' },
    config_json: { value: 'config_json', key: 'seq' },
    ...Object.fromEntries(HYPERPARAMETERS.map((h) => [h.name, { value: `toFloat64(${h.sql})`, key: 'seq', when: h.when }])),
  },
  phases: {
    memorization_at: { value: 'step', when: `phase = 'MEMORIZATION'` },
    grokking_at: { value: 'step', when: `phase = 'GROKKING'` },
    converged_at: { value: 'step', when: `phase = 'CONVERGED'` },
    last_phase: { value: 'phase', key: 'step' },
  },
  commands: {
    stop_policy: { value: 'policy', key: 'seq' },
    stop_reason: { value: 'reason', key: 'seq' },
  },
  run_ends: {
    ended: { value: 'reason', key: 'seq' },
    last_step: { value: 'step' },
  },
  steps: {
    last_step: { value: 'step' },
    // The accuracy milestones (schemas/src/milestones.ts): the first step at each threshold.
    memorized_step: { value: 'step', when: `isNotNull(train_acc) AND assumeNotNull(train_acc) >= ${MEMORIZED_TRAIN_ACC}` },
    generalized_step: { value: 'step', when: `isNotNull(test_acc) AND assumeNotNull(test_acc) >= ${GENERALIZED_TEST_ACC}` },
    final_train_acc: { value: 'assumeNotNull(train_acc)', key: 'step', when: 'isNotNull(train_acc)' },
    final_test_acc: { value: 'assumeNotNull(test_acc)', key: 'step', when: 'isNotNull(test_acc)' },
    final_train_loss: { value: 'train_loss', key: 'step' },
    final_test_loss: { value: 'assumeNotNull(test_loss)', key: 'step', when: 'isNotNull(test_loss)' },
  },
};

export const SUMMARY_SOURCE_TABLES = Object.keys(SUMMARY_SOURCES);

const stateType = (c: SummaryColumn) =>
  `AggregateFunction(${c.fn}If, ${c.type}, ${c.keyType ? `${c.keyType}, ` : ''}UInt8)`;

// A Float64 state merged from nothing is 0, not NULL (18.16 drops Nullable from state types), so
// each Float64 column has a count of the rows that fed it, and run_summary shows NULL at 0.
const counted = (c: SummaryColumn) => c.type === 'Float64';

export function runSummariesTableSql(db: string): string {
  const cols = SUMMARY_COLUMNS.flatMap((c) => [
    `state_${c.name} ${stateType(c)}`,
    ...(counted(c) ? [`seen_${c.name} AggregateFunction(countIf, UInt8)`] : []),
  ]).join(', ');
  return `CREATE TABLE IF NOT EXISTS ${db}.run_summaries (run_id String, ${cols}) ENGINE = AggregatingMergeTree() ORDER BY run_id`;
}

function summarySelectSql(db: string, source: string, where = ''): string {
  const feeds = SUMMARY_SOURCES[source];
  if (!feeds) throw new Error(`run_summaries has no source ${source}`);
  // The columns are state_<name>, so no alias here equals a column that a state reads.
  const cols = SUMMARY_COLUMNS.map((c) => {
    const f = feeds[c.name];
    const cast = (x: string, t: string) => `CAST(${x} AS ${t})`;
    const value = f ? cast(f.value, c.type) : DEFAULT_OF[c.type]!;
    const key = c.keyType ? `, ${f?.key ? cast(f.key, c.keyType) : DEFAULT_OF[c.keyType]!}` : '';
    const when = f ? (f.when ? `toUInt8(${f.when})` : 'toUInt8(1)') : 'toUInt8(0)';
    const state = `${c.fn}IfState(${value}${key}, ${when}) AS state_${c.name}`;
    return counted(c) ? `${state}, countIfState(${when}) AS seen_${c.name}` : state;
  });
  return `SELECT run_id, ${cols.join(', ')} FROM ${db}.${source}${where ? ` WHERE ${where}` : ''} GROUP BY run_id`;
}

export function runSummariesViewSql(db: string, source: string): string {
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.run_summaries_from_${source} TO ${db}.run_summaries AS ${summarySelectSql(db, source)}`;
}

export function backfillRunSummariesSql(db: string, source: string, where = ''): string {
  return `INSERT INTO ${db}.run_summaries ${summarySelectSql(db, source, where)}`;
}

/**
 * `run_summary`: one plain row per run. A milestone, a phase step, an end or a stop that never
 * came is NULL (the merged state of nothing is the type's default, and no step 0 is trained).
 * The milestones are the trainer's (schemas/src/milestones.ts): `memorized_step` the first step
 * with train accuracy ≥ 0.99, `grokked_step` the first with test accuracy ≥ 0.95 when that is at
 * or after memorized_step (grokkedStep), `grok_delay` their difference. The detector's phase
 * onsets are `memorization_at`, `grokking_at` and `converged_at`.
 */
export function runSummaryViewSql(db: string): string {
  const merged = SUMMARY_COLUMNS.map(
    (c) =>
      `${c.fn}IfMerge(state_${c.name}) AS merged_${c.name}` +
      (counted(c) ? `, countIfMerge(seen_${c.name}) AS merged_seen_${c.name}` : ''),
  );
  const plain = SUMMARY_COLUMNS.map((c) => {
    if (counted(c)) return `if(merged_seen_${c.name} = 0, NULL, merged_${c.name}) AS ${c.name}`;
    if (c.fn === 'min' && c.type === 'Int64') return `nullIf(merged_${c.name}, 0) AS ${c.name}`;
    if (c.type === 'String') return `nullIf(merged_${c.name}, '') AS ${c.name}`;
    return `merged_${c.name} AS ${c.name}`;
  });
  return (
    `CREATE VIEW IF NOT EXISTS ${db}.run_summary AS SELECT *, ` +
    `if(isNull(grokked_step), NULL, grokked_step - memorized_step) AS grok_delay FROM (` +
    `SELECT *, if(isNull(memorized_step) OR isNull(generalized_step) OR generalized_step < memorized_step, NULL, generalized_step) AS grokked_step FROM (` +
    `SELECT run_id, ${plain.join(', ')} ` +
    `FROM (SELECT run_id, ${merged.join(', ')} FROM ${db}.run_summaries GROUP BY run_id)))`
  );
}
