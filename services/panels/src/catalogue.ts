// The panel catalogue: every dashboard panel written once, as data. grafana.ts turns it into
// the Grafana dashboards under dashboards/ (pnpm dashboards:build); the HTML report renders the
// same panels; the specs run every panel's SQL on both stores (panels.contract.ts).
//
// SQL is written for the Grafana ClickHouse plugin (macros.ts lists what it expands) and for
// both engines: ClickHouse 18.16 (no window functions, no toStartOfInterval: time buckets are
// intDiv of seconds) and chdb 26.x (aliased subqueries in joins). `${database}` is a constant
// dashboard variable ('grokstream'), so a deployment with another database changes one value.
import { HYPERPARAMETERS } from '@grokstream/store';
import { SWEPT_TAG } from '@grokstream/schemas';
import { seriesSql } from './series.ts';

export type Visualization = 'trend' | 'timeseries' | 'table' | 'xychart' | 'state-timeline' | 'barchart';

export interface Axis {
  label: string;
  scale: 'linear' | 'log';
  unit?: string;
  min?: number;
  max?: number;
}

export interface Panel {
  /** Stable id, unique across the catalogue (the Grafana panel's key and the report's anchor). */
  id: string;
  title: string;
  description: string;
  visualization: Visualization;
  sql: string;
  /** Fields the panel reads; the SQL must return each of them. */
  fields: string[];
  /** x axis: the field and how it is drawn (step-axis panels use `step`). */
  x?: { field: string } & Axis;
  y?: Axis;
  /** Fields whose values split rows into series (Grafana's partition-by-values transformation). */
  seriesBy?: string[];
  /** Cost class for the benchmark: over the selected runs, or over every run. */
  scope: 'run' | 'cross-run';
  /** Grid width in Grafana's 24 columns (default 12). */
  width?: number;
}

export interface Variable {
  name: string;
  label: string;
  kind: 'constant' | 'query' | 'custom' | 'textbox';
  /** SQL for a query variable (its first column is the value), values for custom, default for the rest. */
  query?: string;
  options?: string[];
  default?: string;
  multi?: boolean;
  includeAll?: boolean;
  /** Starts on All; otherwise a query variable starts on its first option, as Grafana does. */
  defaultAll?: boolean;
  hide?: boolean;
}

export interface Annotation {
  name: string;
  description: string;
  /** Fields: time (and timeEnd for a region, drawn as a shaded band), text, tags. */
  sql: string;
  fields: string[];
  color: string;
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  variables: string[];
  /** Variables that open on All in this dashboard (cross-run dashboards start on every run). */
  allByDefault?: string[];
  annotations: Annotation[];
  panels: Panel[];
}

const DB = '${database}';

const RUNS = 'run_id IN (${run:singlequote})';
/** The sweep and run selections of the cross-run panels: every run when both are All. */
const RUN_SUMMARY_FILTER = `$__conditionalAll(sweep IN (\${sweep:singlequote}), $sweep) AND $__conditionalAll(${RUNS}, $run)`;

export const VARIABLES: Record<string, Variable> = {
  database: { name: 'database', label: 'Database', kind: 'constant', default: 'grokstream', hide: true },
  sweep: {
    name: 'sweep',
    label: 'Sweep',
    kind: 'query',
    query: `SELECT DISTINCT sweep FROM ${DB}.run_summary WHERE isNotNull(sweep) ORDER BY sweep`,
    multi: true,
    includeAll: true,
    defaultAll: true,
  },
  // The latest run first: a dashboard opens on it; pick more to overlay, or All for a sweep.
  run: {
    name: 'run',
    label: 'Run',
    kind: 'query',
    query: `SELECT run_id FROM ${DB}.run_summary WHERE $__conditionalAll(sweep IN (\${sweep:singlequote}), $sweep) ORDER BY started DESC, run_id`,
    multi: true,
    includeAll: true,
  },
  metric: {
    name: 'metric',
    label: 'Metric',
    kind: 'query',
    // The metrics of the ten latest selected runs: runs of a sweep log the same curves, and a
    // scan of every run's rollups would cost seconds at 1,000 runs.
    query:
      `SELECT DISTINCT metric FROM ${DB}.step_rollups WHERE run_id IN ` +
      `(SELECT run_id FROM ${DB}.runs WHERE ${RUNS} ORDER BY ts DESC LIMIT 10) AND width = 1000 ORDER BY metric`,
    multi: true,
    default: 'test_acc',
  },
  layer: {
    name: 'layer',
    label: 'Layer',
    kind: 'query',
    query: `SELECT DISTINCT arrayJoin(layer_names) AS layer FROM ${DB}.runs WHERE ${RUNS} ORDER BY layer`,
    multi: true,
    includeAll: true,
    defaultAll: true,
  },
  hyperparameter: {
    name: 'hyperparameter',
    label: 'Hyperparameter',
    kind: 'custom',
    options: HYPERPARAMETERS.map((h) => h.name),
    default: 'weight_decay',
  },
  // The keys a `grokstream sweep` varied: each of its runs carries tag swept:<key> = its value.
  swept: {
    name: 'swept',
    label: 'Swept key',
    kind: 'query',
    query:
      `SELECT DISTINCT replaceOne(k, '${SWEPT_TAG}', '') AS key FROM (SELECT arrayJoin(tag_keys) AS k FROM ${DB}.runs WHERE ${RUNS}) ` +
      `WHERE k LIKE '${SWEPT_TAG}%' ORDER BY key`,
  },
  step_from: { name: 'step_from', label: 'From step', kind: 'textbox', default: '0' },
  step_to: { name: 'step_to', label: 'To step', kind: 'textbox', default: '1000000000' },
  points: { name: 'points', label: 'Points per curve', kind: 'custom', options: ['250', '500', '1000', '2000'], default: '1000' },
};

const logAxis = (label: string, unit = 'none'): Axis => ({ label, scale: 'log', unit });
const linAxis = (label: string, unit = 'none', min?: number, max?: number): Axis => ({
  label,
  scale: 'linear',
  unit,
  ...(min === undefined ? {} : { min }),
  ...(max === undefined ? {} : { max }),
});
const STEP_X = { field: 'step', label: 'step', scale: 'linear' as const };
const SERIES_FIELDS = ['step', 'run_id', 'metric', 'value', 'low', 'high'];
const metricsIn = (...names: string[]) => `metric IN (${names.map((n) => `'${n}'`).join(', ')})`;
/** Series options for a fixed list of scalar metrics (rollups.ts names). */
const metricSet = (...names: string[]) => ({ metrics: metricsIn(...names), families: names });
/** GOP metrics of the model and of the layers in ${layer}. */
const scoped = (prefix: string) =>
  `(metric LIKE '${prefix}@%' AND (splitByChar('@', metric)[2] = 'model' OR $__conditionalAll(splitByChar('@', metric)[2] IN (\${layer:singlequote}), $layer)))`;

function stepPanel(id: string, title: string, description: string, sql: string, y: Axis, width = 12): Panel {
  return { id, title, description, visualization: 'trend', sql, fields: SERIES_FIELDS, x: STEP_X, y, seriesBy: ['run_id', 'metric'], scope: 'run', width };
}

/**
 * Each phase of each selected run as a span: from its change to the next change (or the run's
 * last step). 18.16 has no window functions, so the next change comes from arrays per run.
 */
export const PHASE_SPANS_SQL =
  `SELECT run_id, phase, step_from, step_to, time_from, time_to FROM (` +
  `SELECT run_id, phases, steps, times, last_step, last_ts FROM ` +
  `(SELECT run_id, groupArray(phase) AS phases, groupArray(step) AS steps, groupArray(ts) AS times FROM ` +
  `(SELECT run_id, phase, step, ts FROM ${DB}.phases FINAL WHERE ${RUNS} ORDER BY run_id, step, seq) GROUP BY run_id) AS changes ` +
  `ANY LEFT JOIN (SELECT run_id, max(step) AS last_step, max(ts) AS last_ts FROM ${DB}.steps WHERE ${RUNS} GROUP BY run_id) AS ends USING run_id) ` +
  // ARRAY JOIN runs before JOIN in ClickHouse: the joined columns are only visible one level up.
  `ARRAY JOIN phases AS phase, steps AS step_from, arrayPushBack(arrayPopFront(steps), greatest(last_step, steps[-1])) AS step_to, ` +
  `times AS time_from, arrayPushBack(arrayPopFront(times), greatest(last_ts, times[-1])) AS time_to ` +
  `ORDER BY run_id, step_from`;

const runOverview: Dashboard = {
  uid: 'grokstream-run-overview',
  title: 'grokstream / Run overview',
  description: 'Losses and accuracies of the selected runs by step, their phases and the stops sent to them.',
  variables: ['database', 'sweep', 'run', 'step_from', 'step_to', 'points'],
  annotations: [
    {
      name: 'Phases',
      description: 'Each phase of the selected runs as a shaded band, from its change to the next one.',
      sql:
        `SELECT toUInt64(time_from) * 1000 AS time, toUInt64(time_to) * 1000 AS timeEnd, ` +
        `concat(run_id, ': ', phase, ' (steps ', toString(step_from), '-', toString(step_to), ')') AS text, phase AS tags ` +
        `FROM (${PHASE_SPANS_SQL}) WHERE time_to >= $__fromTime AND time_from <= $__toTime`,
      fields: ['time', 'timeEnd', 'text', 'tags'],
      color: 'rgba(138, 184, 255, 0.25)',
    },
    {
      name: 'Stops',
      description: 'Early-stop commands sent to the selected runs.',
      sql:
        `SELECT toUInt64(ts) * 1000 AS time, concat(run_id, ': stop at step ', toString(step), ' by ', policy, ' (', reason, ')') AS text, policy AS tags ` +
        `FROM ${DB}.commands FINAL WHERE ${RUNS} AND $__timeFilter(ts) ORDER BY time`,
      fields: ['time', 'text', 'tags'],
      color: 'red',
    },
  ],
  panels: [
    stepPanel('loss', 'Loss by step', 'Train and test loss (log scale); downsampled curves show each bucket’s mean, with its min and max.', seriesSql({ sources: ['steps'], ...metricSet('train_loss', 'test_loss') }), logAxis('loss')),
    stepPanel('accuracy', 'Accuracy by step', 'Train and test accuracy: memorization is train accuracy reaching 1, grokking is test accuracy following late.', seriesSql({ sources: ['steps'], ...metricSet('train_acc', 'test_acc') }), linAxis('accuracy', 'percentunit', 0, 1)),
    {
      id: 'accuracy-time',
      title: 'Accuracy over time, with phases and stops',
      description: 'Test and train accuracy on the time axis, where Grafana draws the phase bands and stop annotations.',
      visualization: 'timeseries',
      sql:
        `SELECT toDateTime(intDiv(toUInt32(ts), $__interval_s) * $__interval_s) AS time, run_id, ` +
        `avg(train_acc) AS train_acc, avg(test_acc) AS test_acc FROM ${DB}.steps ` +
        `WHERE ${RUNS} AND $__timeFilter(ts) GROUP BY time, run_id ORDER BY time, run_id`,
      fields: ['time', 'run_id', 'train_acc', 'test_acc'],
      y: linAxis('accuracy', 'percentunit', 0, 1),
      seriesBy: ['run_id'],
      scope: 'run',
      width: 24,
    },
    {
      id: 'phase-spans',
      title: 'Phases',
      description: 'The phases the detector found, as step ranges.',
      visualization: 'table',
      sql: PHASE_SPANS_SQL,
      fields: ['run_id', 'phase', 'step_from', 'step_to'],
      scope: 'run',
    },
    {
      id: 'stops',
      title: 'Stops',
      description: 'Early-stop commands: policy, reason and the evidence window.',
      visualization: 'table',
      sql:
        `SELECT run_id, step, policy, reason, window_start, window_end, issued_by, ts AS sent FROM ${DB}.commands FINAL ` +
        `WHERE ${RUNS} ORDER BY run_id, step`,
      fields: ['run_id', 'step', 'policy', 'reason', 'sent'],
      scope: 'run',
    },
  ],
};

const norms: Dashboard = {
  uid: 'grokstream-norms-gradients',
  title: 'grokstream / Norms and gradient traces',
  description: 'Weight norms (total and per layer), gradient and update sizes, distance from init, gradient noise and curvature by step.',
  variables: ['database', 'sweep', 'run', 'layer', 'metric', 'step_from', 'step_to', 'points'],
  annotations: [],
  panels: [
    stepPanel('weight-norm', 'Weight norm', 'Total weight norm ‖θ‖; weight decay shrinks it through the grokking transition.', seriesSql({ sources: ['steps'], ...metricSet('weight_norm') }), linAxis('‖θ‖')),
    stepPanel('layer-norms', 'Weight norm per layer', 'Each layer’s weight norm, for the layers in $layer.', seriesSql({ sources: ['steps'], metrics: `metric LIKE 'layer_norm@%'`, families: ['layer_norm'], layerNames: true }), linAxis('‖W‖')),
    stepPanel('grad-update', '‖g‖² and update size', 'Squared gradient norm and the size of each optimizer update (log scale).', seriesSql({ sources: ['steps'], ...metricSet('grad_norm_sq', 'update_norm') }), logAxis('size')),
    stepPanel('init-distance', 'Distance from init', '‖θ − θ₀‖.', seriesSql({ sources: ['steps'], ...metricSet('init_distance') }), linAxis('distance')),
    stepPanel('grad-noise', 'Gradient noise: Tr Σ and SNR', 'Trace of the gradient covariance and the gradient signal-to-noise ratio, from the probes.', seriesSql({ sources: ['probes'], ...metricSet('grad_noise_trace', 'grad_snr') }), logAxis('value')),
    stepPanel('curvature', 'Curvature: Hessian trace, top eigenvalue, Tr HΣ', 'Hessian trace and top eigenvalue, and Tr(HΣ), from the probes.', seriesSql({ sources: ['probes'], ...metricSet('hessian_trace', 'hessian_top_eig', 'tr_h_sigma') }), logAxis('value')),
    stepPanel('metric-explorer', 'Any metric', 'The metrics chosen in $metric, from either table.', seriesSql({ sources: ['steps', 'probes'], metrics: 'metric IN (${metric:singlequote})' }), linAxis('value'), 24),
  ],
};

const gop: Dashboard = {
  uid: 'grokstream-gop-spectrum',
  title: 'grokstream / GOP and spectrum',
  description: 'The gradient outer product’s top eigenvalues, ranks and condition number for the model and per layer; Fourier sparsity; softmax collapse.',
  variables: ['database', 'sweep', 'run', 'layer', 'step_from', 'step_to', 'points'],
  annotations: [],
  panels: [
    stepPanel('gop-eigs-model', 'Top GOP eigenvalues (model)', 'The top-k eigenvalues of the whole model’s GOP (log scale).', seriesSql({ sources: ['probes'], metrics: `metric LIKE 'gop_eig%@model'`, families: ['gop_eig'] }), logAxis('eigenvalue')),
    stepPanel('gop-eigs-layers', 'Top GOP eigenvalues per layer', 'The top-k eigenvalues of each layer’s GOP, for the layers in $layer.', seriesSql({ sources: ['probes'], metrics: `metric LIKE 'gop_eig%@%' AND metric NOT LIKE '%@model' AND $__conditionalAll(splitByChar('@', metric)[2] IN (\${layer:singlequote}), $layer)`, families: ['gop_eig'] }), logAxis('eigenvalue')),
    stepPanel('gop-rank', 'Effective and numerical rank', 'exp(entropy) of the normalized spectrum, and the count above the tolerance.', seriesSql({ sources: ['probes'], metrics: `${scoped('gop_effective_rank')} OR ${scoped('gop_numerical_rank')}`, families: ['gop_effective_rank', 'gop_numerical_rank'] }), linAxis('rank')),
    stepPanel('gop-condition', 'Condition number', 'Largest over smallest kept eigenvalue (log scale).', seriesSql({ sources: ['probes'], metrics: scoped('gop_condition_number'), families: ['gop_condition_number'] }), logAxis('condition number')),
    stepPanel('fourier', 'Fourier sparsity', 'Share of the embedding’s energy in its top frequencies (modular tasks).', seriesSql({ sources: ['probes'], metrics: metricsIn('extra.fourier_sparsity', 'extra.fourier_key_freqs'), families: ['extra'] }), linAxis('share')),
    stepPanel('softmax-collapse', 'Softmax collapse and last-layer norm', 'Share of samples whose softmax has collapsed, and the last layer’s norm.', seriesSql({ sources: ['steps'], ...metricSet('softmax_collapse_frac', 'last_layer_norm') }), linAxis('value')),
  ],
};

// The milestones (memorized_step, grokked_step, grok_delay) are the trainer's, from accuracy (as
// `grokstream run` and the sweep table print them); memorization_at, grokking_at and converged_at
// are the detector's phase onsets (services/store/src/rollups.ts, run_summary).
const SUMMARY_COLUMNS =
  'run_id, sweep, memorized_step, grokked_step, grok_delay, memorization_at, grokking_at, converged_at, final_train_acc, final_test_acc, last_phase, stop_policy, stop_reason, ended, last_step';

const phasesAcross: Dashboard = {
  uid: 'grokstream-phases-stops',
  allByDefault: ['run'],
  title: 'grokstream / Phases and stops across runs',
  description: 'A phase timeline per run, and when each run memorized, grokked and stopped.',
  variables: ['database', 'sweep', 'run'],
  annotations: [],
  panels: [
    {
      id: 'phase-timeline',
      title: 'Phase timeline',
      description: 'The phase of each run over time.',
      visualization: 'state-timeline',
      sql:
        `SELECT ts AS time, run_id, phase FROM ${DB}.phases FINAL ` +
        `WHERE run_id IN (SELECT run_id FROM ${DB}.run_summary WHERE ${RUN_SUMMARY_FILTER}) AND $__timeFilter(ts) ORDER BY time`,
      fields: ['time', 'run_id', 'phase'],
      seriesBy: ['run_id'],
      scope: 'cross-run',
      width: 24,
    },
    {
      id: 'grokking-table',
      title: 'Memorization, grokking and stops',
      description:
        'Per run: the first step with train accuracy ≥ 0.99 (memorized) and with test accuracy ≥ 0.95 at or after it (grokked), the delay between them, the detector’s phase onsets (MEMORIZATION, GROKKING, CONVERGED), final accuracies, the stop policy and reason, and how the run ended.',
      visualization: 'table',
      sql: `SELECT ${SUMMARY_COLUMNS} FROM ${DB}.run_summary WHERE ${RUN_SUMMARY_FILTER} ORDER BY run_id`,
      fields: SUMMARY_COLUMNS.split(', '),
      scope: 'cross-run',
      width: 24,
    },
    {
      id: 'grok-delay-hist',
      title: 'Grokking delay by run',
      description: 'Steps from memorized (train accuracy ≥ 0.99) to grokked (test accuracy ≥ 0.95), one bar per run that did both.',
      visualization: 'barchart',
      sql: `SELECT run_id, grok_delay FROM ${DB}.run_summary WHERE ${RUN_SUMMARY_FILTER} AND isNotNull(grok_delay) ORDER BY run_id`,
      fields: ['run_id', 'grok_delay'],
      scope: 'cross-run',
      width: 24,
    },
  ],
};

const HP = '${hyperparameter}';
const sweep: Dashboard = {
  uid: 'grokstream-sweep',
  allByDefault: ['run'],
  title: 'grokstream / Sweep comparison',
  description: 'Grokking delay and final accuracy against a hyperparameter from the runs’ configs.',
  variables: ['database', 'sweep', 'run', 'metric', 'hyperparameter'],
  annotations: [],
  panels: [
    {
      id: 'delay-vs-hp',
      title: 'Grokking delay against $hyperparameter',
      description: 'One point per run that memorized and grokked.',
      visualization: 'xychart',
      sql: `SELECT ${HP} AS x, grok_delay, run_id FROM ${DB}.run_summary WHERE ${RUN_SUMMARY_FILTER} AND isNotNull(grok_delay) AND isNotNull(${HP}) ORDER BY x`,
      fields: ['x', 'grok_delay', 'run_id'],
      x: { field: 'x', label: '$hyperparameter', scale: 'linear' },
      y: linAxis('grokking delay (steps)'),
      scope: 'cross-run',
    },
    {
      id: 'accuracy-vs-hp',
      title: 'Final accuracy against $hyperparameter',
      description: 'Final train and test accuracy of every run.',
      visualization: 'xychart',
      sql: `SELECT ${HP} AS x, final_train_acc, final_test_acc, run_id FROM ${DB}.run_summary WHERE ${RUN_SUMMARY_FILTER} AND isNotNull(${HP}) ORDER BY x`,
      fields: ['x', 'final_train_acc', 'final_test_acc', 'run_id'],
      x: { field: 'x', label: '$hyperparameter', scale: 'linear' },
      y: linAxis('accuracy', 'percentunit', 0, 1),
      scope: 'cross-run',
    },
    {
      id: 'metric-vs-hp',
      title: 'Final $metric against $hyperparameter',
      description: 'The last value of each chosen metric in every run (from the rollups), against the hyperparameter.',
      visualization: 'xychart',
      sql:
        `SELECT x, final_value, metric, run_id FROM ` +
        `(SELECT run_id, ${HP} AS x FROM ${DB}.run_summary WHERE ${RUN_SUMMARY_FILTER} AND isNotNull(${HP})) AS configs ` +
        // PREWHERE on metric: no run filter here, and 18.16 reads the metric column of every row.
        `ANY INNER JOIN (SELECT run_id, metric, argMaxMerge(last_value) AS final_value FROM ${DB}.step_rollups ` +
        `PREWHERE metric IN (\${metric:singlequote}) WHERE width = 1000 GROUP BY run_id, metric) AS finals USING run_id ORDER BY metric, x`,
      fields: ['x', 'final_value', 'metric', 'run_id'],
      x: { field: 'x', label: '$hyperparameter', scale: 'linear' },
      y: linAxis('final value'),
      seriesBy: ['metric'],
      scope: 'cross-run',
      width: 24,
    },
    {
      id: 'sweep-table',
      title: 'Runs and their hyperparameters',
      description: 'Every hyperparameter found in the configs, with the outcome of the run.',
      visualization: 'table',
      sql: `SELECT run_id, sweep, ${HYPERPARAMETERS.map((h) => h.name).join(', ')}, memorized_step, grokked_step, grok_delay, final_test_acc, ended FROM ${DB}.run_summary WHERE ${RUN_SUMMARY_FILTER} ORDER BY run_id`,
      fields: ['run_id', ...HYPERPARAMETERS.map((h) => h.name), 'grok_delay', 'final_test_acc'],
      scope: 'cross-run',
      width: 24,
    },
  ],
};

// The value of the chosen swept key in each run, from its tags; numeric where it parses as a number.
const SWEPT_VALUES =
  `(SELECT run_id, tag_values[indexOf(tag_keys, '${SWEPT_TAG}\${swept}')] AS value FROM ${DB}.runs ` +
  `WHERE has(tag_keys, '${SWEPT_TAG}\${swept}') AND ${RUNS}) AS swept_values`;
const NUMERIC = `match(value, '^[-+]?[0-9]*[.]?[0-9]+([eE][-+]?[0-9]+)?$')`;
const sweepAxes: Dashboard = {
  uid: 'grokstream-sweep-axes',
  allByDefault: ['run'],
  title: 'grokstream / Sweep axes',
  description: 'Grokking delay and final accuracy against each key a grokstream sweep varied (any config key, from the runs’ swept: tags).',
  variables: ['database', 'sweep', 'run', 'swept'],
  annotations: [],
  panels: [
    {
      id: 'delay-vs-swept',
      title: 'Grokking delay against $swept',
      description: 'One point per run of the sweep that memorized and grokked, where the key’s values are numbers.',
      visualization: 'xychart',
      sql:
        `SELECT toFloat64OrZero(value) AS x, grok_delay, run_id FROM ` +
        `(SELECT run_id, grok_delay FROM ${DB}.run_summary WHERE ${RUN_SUMMARY_FILTER} AND isNotNull(grok_delay)) AS summary ` +
        `ANY INNER JOIN ${SWEPT_VALUES} USING run_id WHERE ${NUMERIC} ORDER BY x, run_id`,
      fields: ['x', 'grok_delay', 'run_id'],
      x: { field: 'x', label: '$swept', scale: 'linear' },
      y: linAxis('grokking delay (steps)'),
      scope: 'cross-run',
    },
    {
      id: 'accuracy-vs-swept',
      title: 'Final accuracy against $swept',
      description: 'Final train and test accuracy of every run of the sweep, where the key’s values are numbers.',
      visualization: 'xychart',
      sql:
        `SELECT toFloat64OrZero(value) AS x, final_train_acc, final_test_acc, run_id FROM ` +
        `(SELECT run_id, final_train_acc, final_test_acc FROM ${DB}.run_summary WHERE ${RUN_SUMMARY_FILTER}) AS summary ` +
        `ANY INNER JOIN ${SWEPT_VALUES} USING run_id WHERE ${NUMERIC} ORDER BY x, run_id`,
      fields: ['x', 'final_train_acc', 'final_test_acc', 'run_id'],
      x: { field: 'x', label: '$swept', scale: 'linear' },
      y: linAxis('accuracy', 'percentunit', 0, 1),
      scope: 'cross-run',
    },
    {
      id: 'swept-table',
      title: 'Runs by $swept',
      description: 'Every run of the sweep with its value of the key (numbers or not), its milestones, delay, final accuracy and stop.',
      visualization: 'table',
      sql:
        `SELECT value, run_id, memorized_step, grokked_step, grok_delay, final_test_acc, stop_policy, ended FROM ` +
        `(SELECT run_id, memorized_step, grokked_step, grok_delay, final_test_acc, stop_policy, ended FROM ${DB}.run_summary WHERE ${RUN_SUMMARY_FILTER}) AS summary ` +
        `ANY INNER JOIN ${SWEPT_VALUES} USING run_id ORDER BY value, run_id`,
      fields: ['value', 'run_id', 'memorized_step', 'grokked_step', 'grok_delay', 'final_test_acc', 'stop_policy', 'ended'],
      scope: 'cross-run',
      width: 24,
    },
  ],
};

/** Event tables, their topic and Avro type, for the pipeline-health panels. */
const EVENT_TABLES: [table: string, topic: string, type: string][] = [
  ['runs', 'events', 'RunStarted'],
  ['steps', 'events', 'StepMetrics'],
  ['probes', 'events', 'ProbeSummary'],
  ['checkpoints', 'events', 'Checkpointed'],
  ['run_ends', 'events', 'RunFinished'],
  ['phases', 'phases', 'PhaseChanged'],
  ['commands', 'control', 'StopRun'],
  ['dead_letters', 'dead-letters', 'DeadLetter'],
];
const bucket = (col: string) => `toDateTime(intDiv(toUInt32(${col}), $__interval_s) * $__interval_s)`;
const eachTable = (select: (table: string, topic: string, type: string) => string) =>
  EVENT_TABLES.map(([t, topic, type]) => select(t, topic, type)).join(' UNION ALL ');

const health: Dashboard = {
  uid: 'grokstream-pipeline-health',
  title: 'grokstream / Pipeline health',
  description: 'Events per second by topic and type, ingest lag, dead letters, stops and detector latency.',
  variables: ['database'],
  annotations: [],
  panels: [
    {
      id: 'event-rate',
      title: 'Events per second by topic and type',
      description: 'Events stored per second, by the time the trainer or detector stamped them.',
      visualization: 'timeseries',
      sql:
        // Counted per table before the UNION: 4x faster at 10M steps than counting the union.
        `SELECT time, concat(topic, ' / ', type) AS series, sum(events) / $__interval_s AS events_per_s FROM (` +
        eachTable(
          (t, topic, type) =>
            `SELECT ${bucket('ts')} AS time, '${topic}' AS topic, '${type}' AS type, count() AS events FROM ${DB}.${t} WHERE $__timeFilter(ts) GROUP BY time`,
        ) +
        `) GROUP BY time, topic, type ORDER BY time, series`,
      fields: ['time', 'series', 'events_per_s'],
      y: linAxis('events/s', 'reqps'),
      seriesBy: ['series'],
      scope: 'cross-run',
    },
    {
      id: 'ingest-lag',
      title: 'Ingest lag',
      description: 'Seconds from an event’s timestamp to its row in ClickHouse (ingested_at − ts): mean and worst per table.',
      visualization: 'timeseries',
      sql:
        `SELECT time, type, sum(lag_sum) / sum(n) AS mean_lag_s, max(lag_max) AS max_lag_s FROM (` +
        eachTable(
          (t, _topic, type) =>
            `SELECT ${bucket('ingested_at')} AS time, '${type}' AS type, sum(toInt64(ingested_at) - toInt64(ts)) AS lag_sum, ` +
            `max(toInt64(ingested_at) - toInt64(ts)) AS lag_max, count() AS n FROM ${DB}.${t} WHERE $__timeFilter(ingested_at) GROUP BY time`,
        ) +
        `) GROUP BY time, type ORDER BY time, type`,
      fields: ['time', 'type', 'mean_lag_s', 'max_lag_s'],
      y: linAxis('lag', 's'),
      seriesBy: ['type'],
      scope: 'cross-run',
    },
    {
      id: 'dead-letters',
      title: 'Dead letters by reason',
      description: 'Messages set aside by a consumer, by kind and reason: each one is in the dead-letter topic, replayable.',
      visualization: 'table',
      sql:
        `SELECT error_kind, reason, consumer, source_topic, count() AS letters, max(ts) AS latest FROM ${DB}.dead_letters FINAL ` +
        `WHERE $__timeFilter(ts) GROUP BY error_kind, reason, consumer, source_topic ORDER BY letters DESC`,
      fields: ['error_kind', 'reason', 'consumer', 'letters'],
      scope: 'cross-run',
    },
    {
      id: 'stops-by-policy',
      title: 'Stops by policy',
      description: 'Early-stop commands sent in the time range, by policy.',
      visualization: 'barchart',
      sql: `SELECT policy, count() AS stops FROM ${DB}.commands FINAL WHERE $__timeFilter(ts) GROUP BY policy ORDER BY stops DESC, policy`,
      fields: ['policy', 'stops'],
      scope: 'cross-run',
    },
    {
      id: 'detector-latency',
      title: 'Detector latency',
      description: 'Milliseconds from a step’s event to the phase change the detector derived at that step (clocks of two hosts: read as a trend).',
      visualization: 'timeseries',
      sql:
        `SELECT ${bucket('phase_time')} AS time, avg(latency_ms) AS mean_latency_ms, max(latency_ms) AS max_latency_ms FROM (` +
        `SELECT run_id, step, ts AS phase_time, toInt64(phase_ms) - toInt64(step_ms) AS latency_ms FROM ` +
        `(SELECT run_id, step, ts, ts_ms AS phase_ms FROM ${DB}.phases FINAL WHERE $__timeFilter(ts)) AS changes ` +
        `ANY INNER JOIN (SELECT run_id, step, ts_ms AS step_ms FROM ${DB}.steps ` +
        `WHERE (run_id, step) IN (SELECT run_id, step FROM ${DB}.phases WHERE $__timeFilter(ts))) AS step_events USING (run_id, step)` +
        `) GROUP BY time ORDER BY time`,
      fields: ['time', 'mean_latency_ms', 'max_latency_ms'],
      y: linAxis('latency', 'ms'),
      scope: 'cross-run',
      width: 24,
    },
  ],
};

export const DASHBOARDS: Dashboard[] = [runOverview, norms, gop, phasesAcross, sweep, sweepAxes, health];

/** Every panel of every dashboard, with its dashboard. */
export function allPanels(): { dashboard: Dashboard; panel: Panel }[] {
  return DASHBOARDS.flatMap((dashboard) => dashboard.panels.map((panel) => ({ dashboard, panel })));
}
