// The SQL of a step-axis series panel: curves by step for the selected runs, read from the
// rollups (dashboards/README.md, "Rollups") at the coarsest bucket width that still gives about
// ${points} points over the visible step range (${step_from}..${step_to}), or from the raw rows
// when the range is short enough to show every step. Fields: step, run_id, metric, value (the
// bucket's avg, or the step's value), low and high (the bucket's min and max).
import { ROLLUP_WIDTHS, longFormSql, metricFamilies } from '@grokstream/store';

export type SeriesSource = 'steps' | 'probes';

export interface SeriesOptions {
  /** Tables whose metrics the panel shows (the raw branch reads them). */
  sources: SeriesSource[];
  /** A boolean SQL expression over `metric` (a rollup metric name, rollups.ts). */
  metrics: string;
  /**
   * The metric families `metrics` can match (rollups.ts metricFamilies), so the raw branch
   * expands only those; all of them when unset (a ${metric} choice can be anything).
   */
  families?: string[];
  /** Show layer_norm@<i> as layer_norm@<layer name> and keep the layers of ${layer}. */
  layerNames?: boolean;
}

const DB = '${database}';
const RUNS = 'run_id IN (${run:singlequote})';

/** The bucket width for the visible range: 1 (raw rows) when the range fits in ${points}. */
export function widthSql(): string {
  const levels = [1, ...ROLLUP_WIDTHS];
  const cases = levels.slice(0, -1).map((w) => `span <= ${w} * \${points}, ${w}`);
  return (
    `(SELECT multiIf(${cases.join(', ')}, ${levels[levels.length - 1]}) FROM ` +
    `(SELECT least(max(step), \${step_to}) - \${step_from} AS span FROM ${DB}.steps WHERE ${RUNS}))`
  );
}

export function seriesSql(o: SeriesOptions): string {
  const width = widthSql();
  const rolled =
    `SELECT bucket * width AS step, run_id, metric, avgMerge(avg_value) AS value, ` +
    `minMerge(min_value) AS low, maxMerge(max_value) AS high FROM ${DB}.step_rollups ` +
    `WHERE ${RUNS} AND (${o.metrics}) AND width = ${width} ` +
    `AND bucket >= intDiv(\${step_from}, width) AND bucket <= intDiv(\${step_to}, width) ` +
    `GROUP BY run_id, metric, width, bucket`;
  const raw = o.sources
    .filter((s) => !o.families || metricFamilies(s).some((f) => o.families!.includes(f)))
    .map(
      (s) =>
        `SELECT step, run_id, metric, value, value AS low, value AS high FROM (${longFormSql(DB, s, `${RUNS} AND step >= \${step_from} AND step <= \${step_to}`, true, o.families)}) ` +
        `WHERE (${o.metrics}) AND ${width} = 1`,
    );
  const union = [rolled, ...raw].join(' UNION ALL ');
  if (!o.layerNames) return `SELECT step, run_id, metric, value, low, high FROM (${union}) ORDER BY run_id, metric, step`;
  // layer_norm@<i> -> layer_norm@<name>, from the run's layer_names; then the ${layer} filter.
  return (
    `SELECT step, run_id, concat('layer_norm@', layer) AS metric, value, low, high FROM (` +
    `SELECT step, run_id, metric, value, low, high, layer_names[toUInt32(substring(metric, ${'layer_norm@'.length + 1}))] AS layer ` +
    `FROM (${union}) AS series ANY LEFT JOIN (SELECT run_id, layer_names FROM ${DB}.runs FINAL WHERE ${RUNS}) AS names USING run_id) ` +
    `WHERE $__conditionalAll(layer IN (\${layer:singlequote}), $layer) ORDER BY run_id, metric, step`
  );
}
