// What a report shows, computed from a store: the runs chosen (by id, by sweep, or the latest),
// their configs and summaries, and every panel of the catalogue's research dashboards with the
// rows its SQL returned, as Grafana would run it (resolveVariables + expandSql). The report file
// and the live page (server.ts) both draw this model, so neither can drift from the dashboards.
import { DASHBOARDS, expandSql, resolveVariables, type Dashboard, type Panel, type QueryRows } from '@grokstream/panels';
import { HYPERPARAMETERS } from '@grokstream/store';
import { SWEPT_TAG } from '@grokstream/schemas';
import { panelView, type Marks, type PanelView, type PhaseSpan, type StopMark } from './charts.ts';

/** The report's dashboards: every research dashboard; pipeline health is Grafana's (it is about the servers). */
export const REPORT_DASHBOARDS: Dashboard[] = DASHBOARDS.filter((d) => d.uid !== 'grokstream-pipeline-health');

export interface ReportRequest {
  database: string;
  /** Runs to show; with neither runs nor sweep, the latest run. */
  runs?: string[];
  sweep?: string;
  /** Points per step-axis curve (the catalogue's $points; default 1000). */
  points?: number;
}

export interface RunInfo {
  run_id: string;
  sweep: string | null;
  started: string;
  task: string;
  config: unknown;
  summary: Record<string, unknown>;
}

export interface PanelModel {
  id: string;
  title: string;
  description: string;
  visualization: Panel['visualization'];
  /** The SQL as it ran, for the reader to copy into `grokstream query`. */
  sql: string;
  view: PanelView;
  width: number;
}

export interface SectionModel {
  id: string;
  title: string;
  description: string;
  panels: PanelModel[];
}

export interface ReportModel {
  title: string;
  database: string;
  generatedAt: string;
  runs: RunInfo[];
  sweep?: string;
  sections: SectionModel[];
  /** Milliseconds spent querying, for the page footer and the benchmark. */
  queryMs: number;
}

export class ReportSelectionError extends Error {
  override readonly name = 'ReportSelectionError';
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const ident = (s: string) => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) throw new ReportSelectionError(`database must be a plain identifier, got "${s}"`);
  return s;
};

/** The run ids a request selects; an error naming what exists when nothing matches. */
export async function selectRuns(query: QueryRows, r: ReportRequest): Promise<string[]> {
  const db = ident(r.database);
  const known = async () => {
    const rows = await query(`SELECT run_id FROM ${db}.run_summary ORDER BY started DESC, run_id LIMIT 10`);
    return rows.length ? `latest runs: ${rows.map((x) => x.run_id).join(', ')}` : `no runs in database ${db} yet: train one with grokstream run`;
  };
  if (r.sweep !== undefined) {
    const rows = await query(`SELECT run_id FROM ${db}.run_summary WHERE sweep = ${quote(r.sweep)} ORDER BY started, run_id`);
    if (rows.length === 0) {
      const sweeps = await query(`SELECT DISTINCT sweep FROM ${db}.run_summary WHERE isNotNull(sweep) ORDER BY sweep LIMIT 20`);
      throw new ReportSelectionError(`no runs of sweep ${r.sweep} in ${db}; ${sweeps.length ? `sweeps: ${sweeps.map((x) => x.sweep).join(', ')}` : 'no sweeps there'}`);
    }
    return rows.map((x) => String(x.run_id));
  }
  if (r.runs && r.runs.length > 0) {
    // Each run once (`?run=a&run=a` is one run, not "2 runs").
    const wanted = [...new Set(r.runs)];
    const rows = await query(`SELECT run_id FROM ${db}.run_summary WHERE run_id IN (${wanted.map(quote).join(', ')})`);
    const found = new Set(rows.map((x) => String(x.run_id)));
    const missing = wanted.filter((id) => !found.has(id));
    if (missing.length) throw new ReportSelectionError(`no run ${missing.join(', ')} in ${db}; ${await known()}`);
    return wanted;
  }
  const latest = await query(`SELECT run_id FROM ${db}.run_summary ORDER BY started DESC, run_id LIMIT 1`);
  if (latest.length === 0) throw new ReportSelectionError(await known());
  return [String(latest[0]!.run_id)];
}

function parseConfig(text: unknown): unknown {
  try {
    return JSON.parse(String(text));
  } catch {
    return text;
  }
}

/** The variables a dashboard's report sections loop over (one section per value). */
const LOOP_VARIABLES = ['hyperparameter', 'swept'] as const;
type LoopVariable = (typeof LOOP_VARIABLES)[number];

/** The keys a grokstream sweep varied (their swept: tags) that differ between these runs. */
async function sweptKeys(query: QueryRows, db: string, inList: string): Promise<string[]> {
  const rows = await query(
    `SELECT replaceOne(k, '${SWEPT_TAG}', '') AS key FROM (SELECT k, v FROM ${db}.runs ARRAY JOIN tag_keys AS k, tag_values AS v WHERE run_id IN (${inList})) ` +
      `WHERE k LIKE '${SWEPT_TAG}%' GROUP BY key HAVING uniqExact(v) > 1 ORDER BY key`,
  );
  return rows.map((r) => String(r.key));
}

/** Hyperparameters whose values differ between the runs (each gets its own sweep section). */
function varying(runs: RunInfo[]): string[] {
  return HYPERPARAMETERS.map((h) => h.name).filter((name) => new Set(runs.map((r) => String(r.summary[name]))).size > 1);
}

export async function buildReport(query: QueryRows, r: ReportRequest, now = new Date()): Promise<ReportModel> {
  const t0 = performance.now();
  const db = ident(r.database);
  const ids = await selectRuns(query, r);
  const inList = ids.map(quote).join(', ');
  const summaries = await query(`SELECT * FROM ${db}.run_summary WHERE run_id IN (${inList}) ORDER BY started, run_id`);
  const runs: RunInfo[] = summaries.map((s) => {
    const { config_json, ...summary } = s;
    return { run_id: String(s.run_id), sweep: (s.sweep as string | null) ?? null, started: String(s.started), task: String(s.task), config: parseConfig(config_json), summary };
  });
  const [range] = await query(`SELECT toUInt64(min(ts)) AS t0, toUInt64(max(ts)) AS t1 FROM ${db}.steps WHERE run_id IN (${inList})`);
  const fromMs = Number(range?.t0 ?? 0) * 1000 - 1000;
  const toMs = Number(range?.t1 ?? 0) * 1000 + 1000;
  const intervalS = Math.max(1, Math.ceil((toMs - fromMs) / 1000 / 200));
  const values = (loop?: { variable: string; value: string }): Record<string, string[] | 'all'> => ({
    sweep: r.sweep !== undefined ? [r.sweep] : 'all',
    run: ids,
    layer: 'all',
    ...(r.points ? { points: [String(r.points)] } : {}),
    ...(loop ? { [loop.variable]: [loop.value] } : {}),
  });

  // Phases and stops come from the run overview's own panels: bands and markers on every chart.
  const marks: Marks = { phases: [], stops: [] };
  // A section per value of a dashboard's loop variable: each hyperparameter that varies (else the
  // default one), each key a sweep varied that varies here (else no section).
  const loops: Record<LoopVariable, string[]> = { hyperparameter: varying(runs), swept: await sweptKeys(query, db, inList) };
  const sections: SectionModel[] = [];
  for (const dashboard of REPORT_DASHBOARDS) {
    const variable = LOOP_VARIABLES.find((v) => dashboard.variables.includes(v));
    const choices = variable ? loops[variable] : [];
    if (variable === 'swept' && choices.length === 0) continue;
    const hps = variable && choices.length ? choices : [undefined];
    for (const hp of hps) {
      const ctx = await resolveVariables(query, { database: db, values: values(hp && variable ? { variable, value: hp } : undefined), fromMs, toMs, intervalS, dashboard });
      const results: { panel: Panel; sql: string; rows: Record<string, unknown>[] }[] = [];
      for (const panel of dashboard.panels) {
        const sql = expandSql(panel.sql, ctx);
        results.push({ panel, sql, rows: await query(sql) });
      }
      if (dashboard.uid === 'grokstream-run-overview') {
        marks.phases = (results.find((x) => x.panel.id === 'phase-spans')?.rows ?? []) as unknown as PhaseSpan[];
        marks.stops = (results.find((x) => x.panel.id === 'stops')?.rows ?? []) as unknown as StopMark[];
      }
      const chosen = variable ? ctx.variables[variable]?.values[0] : undefined;
      const title = (s: string) =>
        s
          .replace(/\$hyperparameter/g, chosen ?? 'hyperparameter')
          .replace(/\$swept/g, chosen ?? 'swept key')
          .replace(/\$metric/g, (ctx.variables.metric?.values ?? []).join(', '));
      sections.push({
        id: hp ? `${dashboard.uid}-${hp}` : dashboard.uid,
        title: `${dashboard.title.replace(/^grokstream \/ /, '')}${hp ? `: ${hp}` : ''}`,
        description: dashboard.description,
        panels: results.map(({ panel, sql, rows }) => ({
          id: panel.id,
          title: title(panel.title),
          description: title(panel.description),
          visualization: panel.visualization,
          sql,
          view: panelView(panel, rows, marks, toMs, panel.x ? title(panel.x.label) : undefined),
          width: panel.width ?? 12,
        })),
      });
    }
  }
  const title = r.sweep !== undefined ? `sweep ${r.sweep} (${ids.length} runs)` : ids.length === 1 ? ids[0]! : `${ids.length} runs`;
  return { title, database: db, generatedAt: now.toISOString(), runs, ...(r.sweep !== undefined ? { sweep: r.sweep } : {}), sections, queryMs: performance.now() - t0 };
}
