// From a catalogue panel and the rows its SQL returned to what the page draws: an ECharts option
// (plain JSON: no functions, so the same object goes into a report file or over HTTP) or a table.
// Phases are shaded bands (markArea) and stops dashed lines (markLine) on step-axis and time-axis
// charts; the y axis is logarithmic where the catalogue says, and non-positive values are left
// out there (a log axis has no place for them). Pure: tested without a browser (charts.spec.ts).
import type { Panel } from '@grokstream/panels';

export type Cell = string | number | boolean | null;

/** A phase of a run, in steps and in time (PHASE_SPANS_SQL's fields). */
export interface PhaseSpan {
  run_id: string;
  phase: string;
  step_from: number;
  step_to: number;
  time_from: string;
  time_to: string;
}

export interface StopMark {
  run_id: string;
  step: number;
  policy: string;
  reason: string;
  sent: string;
}

export interface Marks {
  phases: PhaseSpan[];
  stops: StopMark[];
}

export interface ChartView {
  kind: 'chart';
  option: Record<string, unknown>;
  /** Values drawn (non-null data points), for the page and its tests. */
  points: number;
  /** Phase bands drawn. */
  bands: number;
}

export interface TableView {
  kind: 'table';
  columns: string[];
  rows: Cell[][];
  points: number;
}

export interface EmptyView {
  kind: 'empty';
  /** Why there is nothing to draw, and how to get it. */
  reason: string;
  points: 0;
}

export type PanelView = ChartView | TableView | EmptyView;

/** One colour per phase, shared by bands and the timeline (the detector's phases, docs/architecture.md "Phases"). */
export const PHASE_COLORS: Record<string, string> = {
  WARMUP: '#c7c7c7',
  MEMORIZATION: '#f2b134',
  PLATEAU: '#9e9ac8',
  GROKKING: '#6baed6',
  CONVERGED: '#41ab5d',
  DEGRADATION: '#e6550d',
  DIVERGED: '#a50f15',
};
const phaseColor = (phase: string) => PHASE_COLORS[phase] ?? '#bdbdbd';

/** What to tell the reader when a panel has no rows, per panel id. */
const EMPTY_REASONS: Record<string, string> = {
  curvature: 'no Hessian probes in these runs: set probes.hessian.trace / top_eig / tr_h_sigma in the run config',
  'grad-noise': 'no gradient-noise probes in these runs: probes.noise (on by default) with probes.every > 0',
  fourier: 'no Fourier probe: modular tasks with probes.fourier: true',
  'gop-eigs-model': 'no GOP probes in these runs: probes.gop.enabled with probes.every > 0',
  'gop-eigs-layers': 'no per-layer GOP probes: probes.gop.per_layer',
  stops: 'no early stop was sent to these runs',
  'grok-delay-hist': 'no run both memorized and grokked',
  'delay-vs-hp': 'no run both memorized and grokked, or the hyperparameter is not in the configs',
};

export function emptyReason(panel: Panel): string {
  return EMPTY_REASONS[panel.id] ?? 'no data for this selection';
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
/** ClickHouse DateTime text ('YYYY-MM-DD hh:mm:ss', UTC) to epoch milliseconds. */
export const timeMs = (v: unknown): number => (typeof v === 'number' ? v : Date.parse(`${String(v).replace(' ', 'T')}Z`));

function numeric(v: unknown, log: boolean): number | null {
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (!isNumber(n)) return null;
  if (log && n <= 0) return null;
  return n;
}

function yAxis(panel: Panel): Record<string, unknown> {
  const y = panel.y;
  const axis: Record<string, unknown> = { type: y?.scale === 'log' ? 'log' : 'value', name: y?.label ?? '', nameGap: 14, scale: y?.scale !== 'log' };
  if (y?.min !== undefined) axis.min = y.min;
  if (y?.max !== undefined) axis.max = y.max;
  return axis;
}

const base = (): Record<string, unknown> => ({
  animation: false,
  grid: { left: 64, right: 24, top: 48, bottom: 56 },
  tooltip: { trigger: 'axis', confine: true },
  legend: { type: 'scroll', top: 0 },
});

/** Bands and stop lines for the one run shown (several runs' bands would cover each other). */
function markOf(marks: Marks, runIds: string[], axis: 'step' | 'time'): { markArea?: unknown; markLine?: unknown; bands: number } {
  if (runIds.length !== 1) return { bands: 0 };
  const run = runIds[0];
  const spans = marks.phases.filter((p) => p.run_id === run);
  const stops = marks.stops.filter((s) => s.run_id === run);
  const at = (step: number, time: string) => (axis === 'step' ? step : timeMs(time));
  const out: { markArea?: unknown; markLine?: unknown; bands: number } = { bands: spans.length };
  if (spans.length > 0) {
    out.markArea = {
      silent: true,
      label: { show: true, position: 'insideTop', fontSize: 10, color: '#555' },
      data: spans.map((s) => [
        { name: s.phase, xAxis: at(s.step_from, s.time_from), itemStyle: { color: phaseColor(s.phase), opacity: 0.22 } },
        { xAxis: at(Math.max(s.step_to, s.step_from), s.time_to) },
      ]),
    };
  }
  if (stops.length > 0) {
    const stepOf = (s: StopMark) => (axis === 'step' ? s.step : timeMs(s.sent));
    out.markLine = {
      silent: true,
      symbol: 'none',
      lineStyle: { color: '#d62728', type: 'dashed', width: 2 },
      label: { formatter: '{b}', position: 'insideEndTop', color: '#d62728' },
      data: stops.map((s) => ({ name: `stop: ${s.policy}`, xAxis: stepOf(s) })),
    };
  }
  return out;
}

/** Rows grouped by the values of `by` (in first-seen order), each group's key joined with ' · '. */
function groups(rows: Record<string, unknown>[], by: string[]): Map<string, Record<string, unknown>[]> {
  const out = new Map<string, Record<string, unknown>[]>();
  for (const r of rows) {
    const k = by.map((f) => String(r[f])).join(' · ');
    const g = out.get(k);
    if (g) g.push(r);
    else out.set(k, [r]);
  }
  return out;
}

function trend(panel: Panel, rows: Record<string, unknown>[], marks: Marks): ChartView {
  const log = panel.y?.scale === 'log';
  const runIds = [...new Set(rows.map((r) => String(r.run_id)))];
  // One run: the series are its metrics; several: metric · run.
  const by = runIds.length > 1 ? ['metric', 'run_id'] : ['metric'];
  let points = 0;
  const series = [...groups(rows, by)].map(([name, g]) => {
    const data = g.map((r) => [Number(r.step), numeric(r.value, log)] as const);
    points += data.filter((d) => d[1] !== null).length;
    return { name, type: 'line', showSymbol: false, connectNulls: false, sampling: 'lttb', data };
  });
  const mark = markOf(marks, runIds, 'step');
  if (series[0]) Object.assign(series[0], { markArea: mark.markArea, markLine: mark.markLine });
  return {
    kind: 'chart',
    points,
    bands: series.length ? mark.bands : 0,
    option: {
      ...base(),
      xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 28, min: 'dataMin', max: 'dataMax' },
      yAxis: yAxis(panel),
      dataZoom: [{ type: 'inside' }],
      series,
    },
  };
}

function timeseries(panel: Panel, rows: Record<string, unknown>[], marks: Marks): ChartView {
  const by = panel.seriesBy ?? [];
  // In name order, as the step-axis panels' metrics are: a metric keeps its colour across panels.
  const valueFields = panel.fields.filter((f) => f !== 'time' && !by.includes(f)).sort();
  const log = panel.y?.scale === 'log';
  let points = 0;
  const series: Record<string, unknown>[] = [];
  const runIds = by.includes('run_id') ? [...new Set(rows.map((r) => String(r.run_id)))] : [];
  for (const [key, g] of groups(rows, by)) {
    for (const f of valueFields) {
      const data = g.map((r) => [timeMs(r.time), numeric(r[f], log)] as const);
      points += data.filter((d) => d[1] !== null).length;
      const name = runIds.length === 1 || key === '' ? f : `${f} · ${key}`;
      series.push({ name, type: 'line', showSymbol: false, data });
    }
  }
  const mark = markOf(marks, runIds, 'time');
  if (series[0]) Object.assign(series[0], { markArea: mark.markArea, markLine: mark.markLine });
  return {
    kind: 'chart',
    points,
    bands: series.length ? mark.bands : 0,
    option: { ...base(), xAxis: { type: 'time' }, yAxis: yAxis(panel), dataZoom: [{ type: 'inside' }], series },
  };
}

/** Each run's phases as one horizontal bar of coloured segments, in seconds from the first change shown. */
function stateTimeline(rows: Record<string, unknown>[], endMs: number): ChartView {
  const byRun = groups(rows, ['run_id']);
  const runs = [...byRun.keys()];
  const t0 = Math.min(...rows.map((r) => timeMs(r.time)));
  const end = Math.max(endMs, ...rows.map((r) => timeMs(r.time)));
  const segments = [...byRun.values()].map((g) => {
    const sorted = [...g].sort((a, b) => timeMs(a.time) - timeMs(b.time));
    return sorted.map((r, i) => ({ phase: String(r.phase), from: timeMs(r.time), to: i + 1 < sorted.length ? timeMs(sorted[i + 1]!.time) : end }));
  });
  const longest = Math.max(0, ...segments.map((s) => s.length));
  const series: Record<string, unknown>[] = [
    // The time before a run's first change: stacked under the phases, not drawn.
    { type: 'bar', stack: 'phases', silent: true, itemStyle: { color: 'transparent' }, data: segments.map((s) => ((s[0]?.from ?? t0) - t0) / 1000) },
  ];
  for (let k = 0; k < longest; k++) {
    series.push({
      type: 'bar',
      stack: 'phases',
      barMaxWidth: 28,
      label: { show: true, formatter: '{b}', fontSize: 10 },
      data: segments.map((s) => {
        const seg = s[k];
        return seg ? { name: seg.phase, value: Math.max(0, seg.to - seg.from) / 1000, itemStyle: { color: phaseColor(seg.phase) } } : { value: 0, name: '' };
      }),
    });
  }
  return {
    kind: 'chart',
    points: rows.length,
    bands: rows.length,
    option: {
      ...base(),
      legend: { show: false },
      tooltip: { trigger: 'item', formatter: '{b}: {c} s' },
      grid: { left: 200, right: 24, top: 16, bottom: 48 },
      xAxis: { type: 'value', name: 'seconds from the first phase change shown', nameLocation: 'middle', nameGap: 28 },
      yAxis: { type: 'category', data: runs, inverse: true, axisLabel: { width: 180, overflow: 'truncate' } },
      series,
    },
  };
}

function barchart(panel: Panel, rows: Record<string, unknown>[]): ChartView {
  const [label, value] = panel.fields;
  const data = rows.map((r) => numeric(r[value!], false));
  return {
    kind: 'chart',
    points: data.filter((d) => d !== null).length,
    bands: 0,
    option: {
      ...base(),
      legend: { show: false },
      xAxis: { type: 'category', data: rows.map((r) => String(r[label!])), axisLabel: { rotate: rows.length > 4 ? 30 : 0 } },
      yAxis: { type: 'value', name: value },
      series: [{ type: 'bar', name: value, data, barMaxWidth: 48 }],
    },
  };
}

/** Four significant digits, for point labels. */
const rounded = (v: number | null) => (v === null || Number.isInteger(v) ? v : Number(v.toPrecision(4)));

function xychart(panel: Panel, rows: Record<string, unknown>[], xLabel?: string): ChartView {
  const xField = panel.x?.field ?? 'x';
  const by = panel.seriesBy ?? [];
  const yFields = panel.fields.filter((f) => f !== xField && f !== 'run_id' && !by.includes(f));
  let points = 0;
  const series: Record<string, unknown>[] = [];
  for (const [key, g] of groups(rows, by)) {
    for (const f of yFields) {
      const data = g
        .map((r) => [numeric(r[xField], false), rounded(numeric(r[f], false)), String(r.run_id ?? '')])
        .filter((d) => d[0] !== null && d[1] !== null);
      points += data.length;
      series.push({ name: key ? `${key}` : f, type: 'scatter', symbolSize: 11, data, label: { show: rows.length <= 12, formatter: '{@[1]}', position: 'top', fontSize: 10 } });
    }
  }
  return {
    kind: 'chart',
    points,
    bands: 0,
    option: {
      ...base(),
      tooltip: { trigger: 'item', formatter: '{a}: {c}' },
      xAxis: { type: 'value', name: xLabel ?? panel.x?.label ?? xField, nameLocation: 'middle', nameGap: 28, scale: true },
      yAxis: yAxis(panel),
      series,
    },
  };
}

/**
 * A cell as the table shows it: numbers to 4 significant digits, big integers and text as they are;
 * NaN and infinities as text (JSON, the model's way to the page, would turn them into null).
 */
export function cellText(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return !Number.isFinite(v) ? String(v) : Number.isInteger(v) ? v : Number(v.toPrecision(4));
  if (Array.isArray(v)) return v.map((x) => String(cellText(x))).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return v as string | boolean;
}

function table(panel: Panel, rows: Record<string, unknown>[]): TableView {
  const seen = Object.keys(rows[0] ?? {});
  const columns = [...panel.fields.filter((f) => seen.includes(f)), ...seen.filter((c) => !panel.fields.includes(c))];
  return { kind: 'table', columns, rows: rows.map((r) => columns.map((c) => cellText(r[c]))), points: rows.length };
}

/**
 * The view of one panel. `endMs`: the end of the time range shown (where the last phases end);
 * `xLabel`: the x axis's name with its variables filled in (`$hyperparameter`).
 */
export function panelView(panel: Panel, rows: Record<string, unknown>[], marks: Marks, endMs: number, xLabel?: string): PanelView {
  if (rows.length === 0) return { kind: 'empty', reason: emptyReason(panel), points: 0 };
  let view: PanelView;
  switch (panel.visualization) {
    case 'trend':
      view = trend(panel, rows, marks);
      break;
    case 'timeseries':
      view = timeseries(panel, rows, marks);
      break;
    case 'state-timeline':
      view = stateTimeline(rows, endMs);
      break;
    case 'barchart':
      view = barchart(panel, rows);
      break;
    case 'xychart':
      view = xychart(panel, rows, xLabel);
      break;
    case 'table':
      view = table(panel, rows);
      break;
  }
  // Rows came back but none has a value that can be drawn (every value NaN, or ≤ 0 on a log axis).
  return view.points === 0 ? { kind: 'empty', reason: `${rows.length} rows, none with a value that can be drawn${panel.y?.scale === 'log' ? ' on a log axis' : ''}`, points: 0 } : view;
}
