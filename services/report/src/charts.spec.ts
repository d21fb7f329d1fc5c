// panelView on the catalogue's own panels, with rows shaped as their SQL returns them: series,
// points, phase bands and stop lines, log axes, time axes, the phase timeline, bar and xy charts,
// tables, and the reasons given when there is nothing to draw. Pure: no store, no browser.
import { describe, expect, it } from 'vitest';
import { allPanels, DASHBOARDS, type Panel } from '@grokstream/panels';
import { cellText, emptyReason, panelView, PHASE_COLORS, timeMs, type ChartView, type Marks, type PanelView, type TableView } from './charts.ts';

type Row = Record<string, unknown>;

const panel = (id: string): Panel => {
  const found = allPanels().find((p) => p.panel.id === id);
  if (!found) throw new Error(`no panel ${id} in the catalogue`);
  return found.panel;
};

const chart = (v: PanelView): ChartView => {
  if (v.kind !== 'chart') throw new Error(`expected a chart, got ${v.kind}${v.kind === 'empty' ? `: ${v.reason}` : ''}`);
  return v;
};
const tableView = (v: PanelView): TableView => {
  if (v.kind !== 'table') throw new Error(`expected a table, got ${v.kind}`);
  return v;
};
type Series = Record<string, unknown> & { name?: string; data: unknown[] };
const seriesOf = (v: ChartView) => v.option.series as Series[];
const axis = (v: ChartView, name: 'xAxis' | 'yAxis') => v.option[name] as Record<string, unknown>;

/** Plain JSON: what goes into the report file and over HTTP is exactly what was built. */
function expectPlainJson(x: unknown): void {
  const walk = (v: unknown, path: string): void => {
    expect(['function', 'bigint', 'symbol'], `${path} is a ${typeof v}`).not.toContain(typeof v);
    if (typeof v === 'number') expect(Number.isFinite(v), `${path} = ${v}`).toBe(true);
    if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) walk(c, `${path}.${k}`);
  };
  walk(x, 'view');
  expect(JSON.parse(JSON.stringify(x))).toEqual(x);
}

// Two runs' phases and one stop (PHASE_SPANS_SQL's and the stops panel's fields).
const MARKS: Marks = {
  phases: [
    { run_id: 'r1', phase: 'WARMUP', step_from: 1, step_to: 100, time_from: '2026-01-02 03:00:00', time_to: '2026-01-02 03:00:10' },
    { run_id: 'r1', phase: 'MEMORIZATION', step_from: 100, step_to: 400, time_from: '2026-01-02 03:00:10', time_to: '2026-01-02 03:00:40' },
    { run_id: 'r1', phase: 'GROKKING', step_from: 400, step_to: 400, time_from: '2026-01-02 03:00:40', time_to: '2026-01-02 03:00:40' },
    { run_id: 'r2', phase: 'WARMUP', step_from: 1, step_to: 50, time_from: '2026-01-02 04:00:00', time_to: '2026-01-02 04:00:05' },
    { run_id: 'r2', phase: 'DIVERGED', step_from: 50, step_to: 90, time_from: '2026-01-02 04:00:05', time_to: '2026-01-02 04:00:09' },
  ],
  stops: [{ run_id: 'r1', step: 350, policy: 'grokking', reason: 'test accuracy rose', sent: '2026-01-02 03:00:35' }],
};
const NO_MARKS: Marks = { phases: [], stops: [] };
const END = Date.UTC(2026, 0, 2, 5);

/** Step-axis rows (SERIES_FIELDS) for one run and some metrics; `value(metric, step)` gives each value. */
function stepRows(run: string, metrics: string[], steps: number, value: (metric: string, step: number) => unknown): Row[] {
  return metrics.flatMap((metric) =>
    Array.from({ length: steps }, (_, step) => {
      const v = value(metric, step);
      return { step, run_id: run, metric, value: v, low: v, high: v };
    }),
  );
}

describe('timeMs', () => {
  it('reads ClickHouse DateTime text as UTC', () => {
    expect(timeMs('2026-01-02 03:04:05')).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(timeMs('1970-01-01 00:00:00')).toBe(0);
    expect(timeMs(1_750_000_000_000)).toBe(1_750_000_000_000);
  });
});

describe('step-axis (trend) panels', () => {
  const accuracy = panel('accuracy');
  // test_acc every other step (null between), one NaN; train_acc at every step.
  const rows = stepRows('r1', ['train_acc', 'test_acc'], 20, (m, s) => (m === 'train_acc' ? s / 20 : s === 4 ? NaN : s % 2 === 0 ? s / 40 : null));

  it('one run: one series per metric, points = finite values, a band per phase of that run, a line at the stop', () => {
    const v = chart(panelView(accuracy, rows, MARKS, END));
    const series = seriesOf(v);
    expect(series.map((s) => s.name)).toEqual(['train_acc', 'test_acc']);
    expect(series.map((s) => s.type)).toEqual(['line', 'line']);
    // 20 train values; test: steps 0, 2, ..., 18 minus the NaN at step 4.
    expect(v.points).toBe(20 + 9);
    expect(series[1]!.data).toHaveLength(20);
    expect(series[1]!.data[4]).toEqual([4, null]);
    expect(series[1]!.data[1]).toEqual([1, null]);
    expect(series[0]!.data[3]).toEqual([3, 3 / 20]);

    // Only r1's three phases, in step units, coloured by phase; a zero-width span still gets a band.
    expect(v.bands).toBe(3);
    const area = series[0]!.markArea as { data: [{ name: string; xAxis: number; itemStyle: { color: string } }, { xAxis: number }][] };
    expect(area.data.map(([from, to]) => [from.name, from.xAxis, to.xAxis])).toEqual([
      ['WARMUP', 1, 100],
      ['MEMORIZATION', 100, 400],
      ['GROKKING', 400, 400],
    ]);
    expect(area.data.map(([from]) => from.itemStyle.color)).toEqual([PHASE_COLORS.WARMUP, PHASE_COLORS.MEMORIZATION, PHASE_COLORS.GROKKING]);
    const line = series[0]!.markLine as { data: { name: string; xAxis: number }[] };
    expect(line.data).toEqual([{ name: 'stop: grokking', xAxis: 350 }]);
    // Marks are drawn once, on the first series.
    expect(series[1]!.markArea).toBeUndefined();

    expect(axis(v, 'xAxis')).toMatchObject({ type: 'value', name: 'step' });
    expect(axis(v, 'yAxis')).toMatchObject({ type: 'value', name: 'accuracy', min: 0, max: 1 });
    expectPlainJson(v);
  });

  it('a run with no phases and no stops has no marks', () => {
    const v = chart(panelView(accuracy, stepRows('r3', ['train_acc'], 5, (_m, s) => s), MARKS, END));
    expect(v.bands).toBe(0);
    expect(seriesOf(v)[0]!.markArea).toBeUndefined();
    expect(seriesOf(v)[0]!.markLine).toBeUndefined();
    expectPlainJson(v);
  });

  it('two runs: a series per metric and run, and no bands (they would cover each other)', () => {
    const two = [...stepRows('r1', ['train_acc', 'test_acc'], 5, () => 0.5), ...stepRows('r2', ['train_acc', 'test_acc'], 3, () => 0.25)];
    const v = chart(panelView(accuracy, two, MARKS, END));
    expect(seriesOf(v).map((s) => s.name)).toEqual(['train_acc · r1', 'test_acc · r1', 'train_acc · r2', 'test_acc · r2']);
    expect(v.points).toBe(16);
    expect(v.bands).toBe(0);
    for (const s of seriesOf(v)) {
      expect(s.markArea).toBeUndefined();
      expect(s.markLine).toBeUndefined();
    }
    expectPlainJson(v);
  });

  it('log axis: drops 0, negatives, NaN and nulls; nothing left is an empty view saying why', () => {
    const loss = panel('loss');
    expect(loss.y?.scale).toBe('log');
    const values = [2, 0, -1, NaN, null, 0.5, 1e-3];
    const v = chart(panelView(loss, stepRows('r1', ['train_loss'], values.length, (_m, s) => values[s]), NO_MARKS, END));
    expect(axis(v, 'yAxis')).toMatchObject({ type: 'log', name: 'loss' });
    expect(v.points).toBe(3);
    expect(seriesOf(v)[0]!.data.map((d) => (d as [number, number | null])[1])).toEqual([2, null, null, null, null, 0.5, 1e-3]);
    expectPlainJson(v);

    const none = panelView(loss, stepRows('r1', ['train_loss', 'test_loss'], 4, (_m, s) => [0, -2, NaN, null][s]), MARKS, END);
    expect(none).toEqual({ kind: 'empty', reason: '8 rows, none with a value that can be drawn on a log axis', points: 0 });
  });

  it('linear axis keeps 0 and negatives, and bigints as numbers', () => {
    const v = chart(panelView(panel('init-distance'), stepRows('r1', ['init_distance'], 3, (_m, s) => [0, -1, 5n][s]), NO_MARKS, END));
    expect(v.points).toBe(3);
    expect(seriesOf(v)[0]!.data).toEqual([
      [0, 0],
      [1, -1],
      [2, 5],
    ]);
    expect(axis(v, 'yAxis')).toMatchObject({ type: 'value', scale: true });
  });
});

describe('time-axis (timeseries) panels', () => {
  const accTime = panel('accuracy-time');
  const times = ['2026-01-02 03:00:00', '2026-01-02 03:00:10', '2026-01-02 03:00:20'];

  it('converts DateTime text to epoch ms, a series per value field, bands and the stop in time', () => {
    const rows = times.map((time, i) => ({ time, run_id: 'r1', train_acc: i / 2, test_acc: i === 1 ? NaN : i / 4 }));
    const v = chart(panelView(accTime, rows, MARKS, END));
    expect(axis(v, 'xAxis')).toEqual({ type: 'time' });
    const series = seriesOf(v);
    // Value fields in name order; one run: named by field only.
    expect(series.map((s) => s.name)).toEqual(['test_acc', 'train_acc']);
    expect(series[1]!.data).toEqual(times.map((t, i) => [Date.UTC(2026, 0, 2, 3, 0, i * 10), i / 2]));
    expect(series[0]!.data[1]).toEqual([Date.UTC(2026, 0, 2, 3, 0, 10), null]);
    expect(v.points).toBe(5);
    expect(v.bands).toBe(3);
    const area = series[0]!.markArea as { data: [{ name: string; xAxis: number }, { xAxis: number }][] };
    expect(area.data.map(([from, to]) => [from.name, from.xAxis, to.xAxis])).toEqual([
      ['WARMUP', Date.UTC(2026, 0, 2, 3, 0, 0), Date.UTC(2026, 0, 2, 3, 0, 10)],
      ['MEMORIZATION', Date.UTC(2026, 0, 2, 3, 0, 10), Date.UTC(2026, 0, 2, 3, 0, 40)],
      ['GROKKING', Date.UTC(2026, 0, 2, 3, 0, 40), Date.UTC(2026, 0, 2, 3, 0, 40)],
    ]);
    expect((series[0]!.markLine as { data: unknown[] }).data).toEqual([{ name: 'stop: grokking', xAxis: Date.UTC(2026, 0, 2, 3, 0, 35) }]);
    expectPlainJson(v);
  });

  it('two runs: fields named with their run, no bands', () => {
    const rows = ['r1', 'r2'].flatMap((run_id) => times.map((time) => ({ time, run_id, train_acc: 0.5, test_acc: 0.25 })));
    const v = chart(panelView(accTime, rows, MARKS, END));
    expect(seriesOf(v).map((s) => s.name)).toEqual(['test_acc · r1', 'train_acc · r1', 'test_acc · r2', 'train_acc · r2']);
    expect(v.bands).toBe(0);
    expect(v.points).toBe(12);
    expectPlainJson(v);
  });
});

describe('phase timeline (state-timeline)', () => {
  const timeline = panel('phase-timeline');
  const rows = [
    { time: '2026-01-02 03:00:00', run_id: 'r1', phase: 'WARMUP' },
    { time: '2026-01-02 03:00:05', run_id: 'r2', phase: 'WARMUP' },
    { time: '2026-01-02 03:00:10', run_id: 'r1', phase: 'MEMORIZATION' },
    { time: '2026-01-02 03:00:20', run_id: 'r2', phase: 'DIVERGED' },
    { time: '2026-01-02 03:00:40', run_id: 'r1', phase: 'GROKKING' },
  ];
  const end = Date.UTC(2026, 0, 2, 3, 1, 0);

  it('one bar per run of coloured segments, from each change to the next or to the end shown', () => {
    const v = chart(panelView(timeline, rows, NO_MARKS, end));
    expect(axis(v, 'yAxis')).toMatchObject({ type: 'category', data: ['r1', 'r2'] });
    const [offset, ...segments] = seriesOf(v);
    // The time before each run's first change, in seconds from the first change shown: not drawn.
    expect(offset!.data).toEqual([0, 5]);
    expect(offset!.itemStyle).toEqual({ color: 'transparent' });
    expect(segments).toHaveLength(3);
    const seg = (k: number) => segments[k]!.data as { name: string; value: number; itemStyle?: { color: string } }[];
    expect(seg(0)).toEqual([
      { name: 'WARMUP', value: 10, itemStyle: { color: PHASE_COLORS.WARMUP } },
      { name: 'WARMUP', value: 15, itemStyle: { color: PHASE_COLORS.WARMUP } },
    ]);
    expect(seg(1)).toEqual([
      { name: 'MEMORIZATION', value: 30, itemStyle: { color: PHASE_COLORS.MEMORIZATION } },
      { name: 'DIVERGED', value: 40, itemStyle: { color: PHASE_COLORS.DIVERGED } },
    ]);
    // r2 has two segments only: an empty placeholder in the third.
    expect(seg(2)).toEqual([{ name: 'GROKKING', value: 20, itemStyle: { color: PHASE_COLORS.GROKKING } }, { value: 0, name: '' }]);
    for (const s of segments) expect(s.stack).toBe('phases');
    expect(v.points).toBe(5);
    expectPlainJson(v);
  });

  it('every phase of the detector has its own colour', () => {
    const colors = Object.values(PHASE_COLORS);
    expect(new Set(colors).size).toBe(colors.length);
    expect(Object.keys(PHASE_COLORS)).toEqual(['WARMUP', 'MEMORIZATION', 'PLATEAU', 'GROKKING', 'CONVERGED', 'DEGRADATION', 'DIVERGED']);
  });
});

describe('bar and xy charts', () => {
  it('barchart: one bar per row, labelled by the first field, non-finite values left out of the points', () => {
    const hist = panel('grok-delay-hist');
    const v = chart(
      panelView(
        hist,
        [
          { run_id: 'a', grok_delay: 900 },
          { run_id: 'b', grok_delay: 12n },
          { run_id: 'c', grok_delay: NaN },
        ],
        MARKS,
        END,
      ),
    );
    expect(axis(v, 'xAxis')).toMatchObject({ type: 'category', data: ['a', 'b', 'c'] });
    expect(seriesOf(v)).toEqual([expect.objectContaining({ type: 'bar', name: 'grok_delay', data: [900, 12, null] })]);
    expect(v.points).toBe(2);
    expect(v.bands).toBe(0);
    expectPlainJson(v);
  });

  it('xychart: the hyperparameter named on the x axis, values rounded to 4 digits, the run on each point', () => {
    const delay = panel('delay-vs-hp');
    const rows = [
      { x: 0.1, grok_delay: 123.456789, run_id: 'b' },
      { x: 1, grok_delay: 900, run_id: 'a' },
      { x: null, grok_delay: 5, run_id: 'c' },
    ];
    const v = chart(panelView(delay, rows, MARKS, END, 'weight_decay'));
    expect(axis(v, 'xAxis')).toMatchObject({ type: 'value', name: 'weight_decay' });
    expect(seriesOf(v)).toHaveLength(1);
    expect(seriesOf(v)[0]!.data).toEqual([
      [0.1, 123.5, 'b'],
      [1, 900, 'a'],
    ]);
    expect(v.points).toBe(2);
    expect(v.bands).toBe(0);
    expectPlainJson(v);
    // Without a label, the catalogue's (with its variable unfilled).
    expect(axis(chart(panelView(delay, rows, MARKS, END)), 'xAxis').name).toBe('$hyperparameter');
  });

  it('xychart: a series per y field, or per value of seriesBy', () => {
    const acc = chart(
      panelView(
        panel('accuracy-vs-hp'),
        [
          { x: 0.1, final_train_acc: 1, final_test_acc: 0.123456, run_id: 'b' },
          { x: 1, final_train_acc: 0.99999, final_test_acc: NaN, run_id: 'a' },
        ],
        NO_MARKS,
        END,
        'lr',
      ),
    );
    expect(seriesOf(acc).map((s) => [s.name, s.data])).toEqual([
      [
        'final_train_acc',
        [
          [0.1, 1, 'b'],
          [1, 1, 'a'],
        ],
      ],
      ['final_test_acc', [[0.1, 0.1235, 'b']]],
    ]);
    expect(acc.points).toBe(3);

    const byMetric = chart(
      panelView(
        panel('metric-vs-hp'),
        [
          { x: 1, final_value: 0.5, metric: 'test_acc', run_id: 'a' },
          { x: 2, final_value: 0.7, metric: 'test_acc', run_id: 'b' },
          { x: 1, final_value: 3, metric: 'train_loss', run_id: 'a' },
        ],
        NO_MARKS,
        END,
        'lr',
      ),
    );
    expect(seriesOf(byMetric).map((s) => [s.name, s.data.length])).toEqual([
      ['test_acc', 2],
      ['train_loss', 1],
    ]);
    expectPlainJson(byMetric);
  });
});

describe('tables', () => {
  it("columns in the panel's field order first, then the rest as returned; cells as the table shows them", () => {
    const stops = panel('stops');
    const rows = [
      { issued_by: 'detector', sent: '2026-01-02 03:00:35', reason: 'rose', step: 350, run_id: 'r1', window_start: 300, policy: 'grokking' },
      { issued_by: null, sent: '2026-01-02 03:00:36', reason: 'fell', step: 9_007_199_254_740_993n, run_id: 'r2', window_start: 0.123456, policy: 'divergence' },
    ];
    const v = tableView(panelView(stops, rows, MARKS, END));
    expect(stops.fields).toEqual(['run_id', 'step', 'policy', 'reason', 'sent']);
    expect(v.columns).toEqual(['run_id', 'step', 'policy', 'reason', 'sent', 'issued_by', 'window_start']);
    expect(v.rows).toEqual([
      ['r1', 350, 'grokking', 'rose', '2026-01-02 03:00:35', 'detector', 300],
      ['r2', '9007199254740993', 'divergence', 'fell', '2026-01-02 03:00:36', null, 0.1235],
    ]);
    expect(v.points).toBe(2);
    expectPlainJson(v);
  });

  it('a panel field the rows lack is not a column', () => {
    const v = tableView(panelView(panel('phase-spans'), [{ phase: 'WARMUP', run_id: 'r1', step_to: 3 }], NO_MARKS, END));
    expect(v.columns).toEqual(['run_id', 'phase', 'step_to']);
  });

  it('cellText: bigints as text, floats to 4 significant digits, integers, arrays, objects and null', () => {
    expect(cellText(12345678901234567890n)).toBe('12345678901234567890');
    expect(cellText(3.14159265)).toBe(3.142);
    expect(cellText(0.000123456)).toBe(0.0001235);
    expect(cellText(123456.789)).toBe(123500);
    expect(cellText(42)).toBe(42);
    expect(cellText(-7)).toBe(-7);
    expect(cellText([1.23456, 2n, 'a', null])).toBe('1.235, 2, a, null');
    expect(cellText({ a: 1 })).toBe('{"a":1}');
    expect(cellText(null)).toBeNull();
    expect(cellText(undefined)).toBeNull();
    expect(cellText('text')).toBe('text');
    expect(cellText(true)).toBe(true);
  });

  it('cellText: NaN and infinities as text, so a diverged run shows NaN (not an empty cell) after JSON', () => {
    expect(cellText(NaN)).toBe('NaN');
    expect(cellText(Infinity)).toBe('Infinity');
    expect(cellText(-Infinity)).toBe('-Infinity');
    const v = tableView(panelView(panel('grokking-table'), [{ run_id: 'r2', final_train_acc: NaN, final_test_acc: 0.5 }], NO_MARKS, END));
    expectPlainJson(v);
  });
});

describe('nothing to draw', () => {
  it("no rows: an empty view with the panel's own reason", () => {
    const curvature = panelView(panel('curvature'), [], MARKS, END);
    expect(curvature.kind).toBe('empty');
    expect(curvature.points).toBe(0);
    expect(curvature.kind === 'empty' && curvature.reason).toMatch(/probes\.hessian/);
    expect(panelView(panel('fourier'), [], MARKS, END)).toEqual({ kind: 'empty', reason: emptyReason(panel('fourier')), points: 0 });
    expect(emptyReason(panel('fourier'))).toMatch(/fourier/);
    expect(emptyReason(panel('stops'))).toMatch(/no early stop/);
    // A panel without a reason of its own.
    expect(panelView(panel('loss'), [], MARKS, END)).toEqual({ kind: 'empty', reason: 'no data for this selection', points: 0 });
  });

  it('rows without a drawable value on a linear axis: empty, without the log-axis words', () => {
    const v = panelView(panel('accuracy'), stepRows('r1', ['test_acc'], 3, () => null), MARKS, END);
    expect(v).toEqual({ kind: 'empty', reason: '3 rows, none with a value that can be drawn', points: 0 });
  });
});

describe('every catalogue panel', () => {
  // Rows with every field the panel reads, two runs, for the report's dashboards.
  const cases = allPanels().filter(({ dashboard }) => dashboard.uid !== 'grokstream-pipeline-health');
  const sample = (p: Panel): Row[] =>
    ['r1', 'r2'].flatMap((run_id, i) =>
      [0, 1, 2].map((k) => {
        const row: Row = {};
        for (const f of p.fields) {
          if (f === 'run_id') row[f] = run_id;
          else if (f === 'time' || f === 'sent' || f === 'time_from' || f === 'time_to') row[f] = `2026-01-02 03:00:0${k}`;
          else if (f === 'metric' || f === 'phase' || f === 'sweep') row[f] = f === 'phase' ? 'WARMUP' : `m${k % 2}`;
          else row[f] = 1 + k + i / 3;
        }
        return row;
      }),
    );

  it('the report dashboards are covered', () => {
    expect(cases.length).toBe(DASHBOARDS.filter((d) => d.uid !== 'grokstream-pipeline-health').reduce((n, d) => n + d.panels.length, 0));
  });

  for (const { dashboard, panel: p } of cases) {
    it(`${dashboard.uid} / ${p.id}: a view with points, as plain JSON`, () => {
      const v = panelView(p, sample(p), MARKS, END, 'lr');
      expect(v.kind).toBe(p.visualization === 'table' ? 'table' : 'chart');
      expect(v.points).toBeGreaterThan(0);
      expectPlainJson(v);
    });
  }
});
