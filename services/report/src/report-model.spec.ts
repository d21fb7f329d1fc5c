// The report model over a seeded chdb store (testing-store.ts: grok-a and grok-b of sweep wd,
// grok-c alone and the latest): which runs a request selects, the errors that name what exists,
// and the sections: every research dashboard's panels with their SQL expanded, their data, phase
// bands, and the sweep dashboard once per hyperparameter that varies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARDS, type QueryRows } from '@grokstream/panels';
import { buildReport, REPORT_DASHBOARDS, ReportSelectionError, selectRuns, type ReportModel, type SectionModel } from './report-model.ts';
import { scriptJson } from './page.ts';
import { seededStore, type TestStore } from './testing-store.ts';
import { sampleMilestones } from '@grokstream/store';

let t: TestStore;
let db: string;

beforeAll(async () => {
  t = await seededStore('report-model');
  db = t.database;
}, 60_000);

afterAll(async () => {
  await t?.close();
}, 60_000);

const panelOf = (section: SectionModel | undefined, id: string) => {
  const p = section?.panels.find((x) => x.id === id);
  if (!p) throw new Error(`no panel ${id} in section ${section?.id}`);
  return p;
};
const section = (m: ReportModel, id: string) => m.sections.find((s) => s.id === id);

async function selectionError(p: Promise<unknown>): Promise<ReportSelectionError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ReportSelectionError);
  return err as ReportSelectionError;
}

describe('selectRuns', () => {
  it('chooses the latest run when nothing is asked for', async () => {
    expect(await selectRuns(t.query, { database: db })).toEqual(['grok-c']);
  });

  it('takes runs by id, in the order asked', async () => {
    expect(await selectRuns(t.query, { database: db, runs: ['grok-b', 'grok-a'] })).toEqual(['grok-b', 'grok-a']);
  });

  it('takes a run asked for twice once', async () => {
    expect(await selectRuns(t.query, { database: db, runs: ['grok-a', 'grok-b', 'grok-a'] })).toEqual(['grok-a', 'grok-b']);
    const err = await selectionError(selectRuns(t.query, { database: db, runs: ['nope', 'nope'] }));
    expect(err.message).toMatch(/^no run nope in /);
  });

  it("takes a sweep's runs, oldest first, and a sweep wins over run ids", async () => {
    expect(await selectRuns(t.query, { database: db, sweep: 'wd' })).toEqual(['grok-a', 'grok-b']);
    expect(await selectRuns(t.query, { database: db, sweep: 'wd', runs: ['grok-c'] })).toEqual(['grok-a', 'grok-b']);
  });

  it('an unknown run: an error naming it and listing the latest runs', async () => {
    const err = await selectionError(selectRuns(t.query, { database: db, runs: ['grok-a', 'nope'] }));
    expect(err.name).toBe('ReportSelectionError');
    expect(err.message).toBe(`no run nope in ${db}; latest runs: grok-c, grok-b, grok-a`);
  });

  it('an unknown sweep: an error listing the sweeps (runs without a sweep are none)', async () => {
    const err = await selectionError(selectRuns(t.query, { database: db, sweep: 'nope' }));
    expect(err.message).toBe(`no runs of sweep nope in ${db}; sweeps: wd`);
  });

  it('an empty database: says so, for the latest run, a run id or a sweep', async () => {
    expect((await selectionError(selectRuns(t.query, { database: 'empty_db' }))).message).toBe('no runs in database empty_db yet: train one with grokstream run');
    expect((await selectionError(selectRuns(t.query, { database: 'empty_db', runs: ['grok-a'] }))).message).toBe(
      'no run grok-a in empty_db; no runs in database empty_db yet: train one with grokstream run',
    );
    expect((await selectionError(selectRuns(t.query, { database: 'empty_db', sweep: 'wd' }))).message).toBe('no runs of sweep wd in empty_db; no sweeps there');
    await selectionError(buildReport(t.query, { database: 'empty_db' }));
  });

  it('quotes run ids and refuses a database name that is not an identifier', async () => {
    const err = await selectionError(selectRuns(t.query, { database: db, runs: ["x') OR 1=1 --"] }));
    expect(err.message).toMatch(/^no run x'\) OR 1=1 -- in /);
    expect((await selectionError(selectRuns(t.query, { database: 'a.b; DROP' }))).message).toMatch(/plain identifier/);
  });
});

describe('buildReport', () => {
  let latest: ReportModel;
  let single: ReportModel;
  let sweep: ReportModel;
  beforeAll(async () => {
    const now = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    latest = await buildReport(t.query, { database: db }, now);
    single = await buildReport(t.query, { database: db, runs: ['grok-a'] }, now);
    sweep = await buildReport(t.query, { database: db, sweep: 'wd' }, now);
  }, 60_000);

  it('the latest run by default, with its config and summary', () => {
    expect(latest.title).toBe('grok-c');
    expect(latest.generatedAt).toBe('2026-01-02T03:04:05.000Z');
    expect(latest.database).toBe(db);
    expect(latest.runs.map((r) => r.run_id)).toEqual(['grok-c']);
    expect(latest.sweep).toBeUndefined();
    const [c] = latest.runs;
    expect(c).toMatchObject({ sweep: null, task: 'modular', config: JSON.parse(t.runs.c.runs[0]!.config_json as string) });
    expect(c!.summary).toMatchObject({ lr: 0.01, ...sampleMilestones(t.runs.c), memorization_at: 30, grokking_at: 90, ended: 'completed', last_step: 119 });
    expect(c!.summary).not.toHaveProperty('config_json');
    expect(latest.queryMs).toBeGreaterThan(0);
  });

  it('one section per research dashboard, in order, with every panel and its SQL fully expanded', () => {
    expect(REPORT_DASHBOARDS.map((d) => d.uid)).toEqual(DASHBOARDS.map((d) => d.uid).filter((uid) => uid !== 'grokstream-pipeline-health'));
    // Not a sweep's runs: no swept keys, so no sweep-axes section.
    const shown = REPORT_DASHBOARDS.filter((d) => d.uid !== 'grokstream-sweep-axes');
    for (const m of [latest, single]) {
      expect(m.sections.map((s) => s.id)).toEqual(shown.map((d) => d.uid));
      m.sections.forEach((s, i) => {
        const d = shown[i]!;
        expect(s.title).toBe(d.title.replace('grokstream / ', ''));
        expect(s.panels.map((p) => p.id)).toEqual(d.panels.map((p) => p.id));
        for (const p of s.panels) {
          expect(p.sql, `${s.id}/${p.id}`).not.toContain('$');
          expect(p.title, `${s.id}/${p.id}`).not.toContain('$');
          expect(p.sql).toContain(`${db}.`);
          expect(p.width).toBe(d.panels.find((x) => x.id === p.id)!.width ?? 12);
        }
      });
    }
    // The selection is in the SQL: the chosen run, and the sweep dashboard on the catalogue's default hyperparameter.
    expect(panelOf(section(single, 'grokstream-run-overview'), 'loss').sql).toContain("run_id IN ('grok-a')");
    expect(panelOf(section(single, 'grokstream-sweep'), 'delay-vs-hp').title).toBe('Grokking delay against weight_decay');
  });

  it('a run with probes has data in every panel; a run without has the reasons instead', () => {
    for (const s of single.sections) for (const p of s.panels) expect(p.view.points, `${s.id}/${p.id}`).toBeGreaterThan(0);
    const norms = section(latest, 'grokstream-norms-gradients');
    const curvature = panelOf(norms, 'curvature').view;
    expect(curvature.kind).toBe('empty');
    expect(curvature.kind === 'empty' && curvature.reason).toMatch(/probes\.hessian/);
    expect(panelOf(norms, 'weight-norm').view.points).toBe(t.runs.c.steps.length);
    expect(panelOf(section(latest, 'grokstream-run-overview'), 'stops').view).toMatchObject({ kind: 'empty', reason: 'no early stop was sent to these runs' });
  });

  it('step values as the sample run has them, and the stop in its table', () => {
    const overview = section(single, 'grokstream-run-overview');
    const a = t.runs.a;
    // 300 steps fit in the 1000 points: every step, train and test.
    expect(panelOf(overview, 'accuracy').view.points).toBe(2 * a.steps.length);
    const stops = panelOf(overview, 'stops').view;
    expect(stops.kind).toBe('table');
    if (stops.kind === 'table') {
      expect(stops.columns.slice(0, 4)).toEqual(['run_id', 'step', 'policy', 'reason']);
      expect(stops.rows.map((r) => r.slice(0, 3))).toEqual([['grok-a', 299, 'grokking']]);
    }
  });

  it('a single-run report draws phase bands and the stop on its step-axis panels', () => {
    const spans = panelOf(section(single, 'grokstream-run-overview'), 'phase-spans').view;
    expect(spans.kind === 'table' && spans.rows.map((r) => [r[1], r[2], r[3]])).toEqual([
      ['WARMUP', 1, 60],
      ['MEMORIZATION', 60, 150],
      ['GROKKING', 150, 180],
      ['CONVERGED', 180, 299],
    ]);
    const stepPanels = single.sections.flatMap((s) => s.panels).filter((p) => p.visualization === 'trend');
    expect(stepPanels.length).toBeGreaterThan(10);
    for (const p of stepPanels) {
      expect(p.view.kind, p.id).toBe('chart');
      if (p.view.kind !== 'chart') continue;
      expect(p.view.bands, p.id).toBe(4);
      const first = (p.view.option.series as Record<string, unknown>[])[0]!;
      expect((first.markArea as { data: unknown[] }).data).toHaveLength(4);
      expect(first.markLine).toEqual(expect.objectContaining({ data: [{ name: 'stop: grokking', xAxis: 299 }] }));
    }
    const time = panelOf(section(single, 'grokstream-run-overview'), 'accuracy-time').view;
    expect(time.kind === 'chart' && time.bands).toBe(4);
  });

  it('a sweep: its runs, no bands on the overlaid curves, the sweep section once per varying hyperparameter', () => {
    expect(sweep.title).toBe('sweep wd (2 runs)');
    expect(sweep.sweep).toBe('wd');
    expect(sweep.runs.map((r) => r.run_id)).toEqual(['grok-a', 'grok-b']);
    // grok-a and grok-b differ in weight decay and train fraction (lr, width and seed are the same).
    const sweepSections = sweep.sections.filter((s) => s.id.startsWith('grokstream-sweep-') && !s.id.startsWith('grokstream-sweep-axes'));
    expect(sweepSections.map((s) => [s.id, s.title])).toEqual([
      ['grokstream-sweep-weight_decay', 'Sweep comparison: weight_decay'],
      ['grokstream-sweep-train_fraction', 'Sweep comparison: train_fraction'],
    ]);
    // And a section per key the sweep varied (its runs' swept: tags), any config key.
    const axes = sweep.sections.filter((s) => s.id.startsWith('grokstream-sweep-axes'));
    expect(axes.map((s) => [s.id, s.title])).toEqual([
      ['grokstream-sweep-axes-optimizer.weight_decay', 'Sweep axes: optimizer.weight_decay'],
      ['grokstream-sweep-axes-task.train_fraction', 'Sweep axes: task.train_fraction'],
    ]);
    expect(sweep.sections.map((s) => s.id)).toEqual([
      ...REPORT_DASHBOARDS.filter((d) => !d.uid.startsWith('grokstream-sweep')).map((d) => d.uid),
      'grokstream-sweep-weight_decay',
      'grokstream-sweep-train_fraction',
      'grokstream-sweep-axes-optimizer.weight_decay',
      'grokstream-sweep-axes-task.train_fraction',
    ]);
    const byFraction = panelOf(axes[1], 'delay-vs-swept');
    expect(byFraction.title).toBe('Grokking delay against task.train_fraction');
    expect(byFraction.view.kind === 'chart' && byFraction.view.option.xAxis).toMatchObject({ name: 'task.train_fraction' });
    expect(byFraction.view.kind === 'chart' && (byFraction.view.option.series as { data: unknown[] }[])[0]!.data).toEqual([
      [0.3, sampleMilestones(t.runs.b).grok_delay, 'grok-b'],
      [0.5, sampleMilestones(t.runs.a).grok_delay, 'grok-a'],
    ]);
    const wd = sweepSections[0]!;
    const delay = panelOf(wd, 'delay-vs-hp');
    expect(delay.title).toBe('Grokking delay against weight_decay');
    expect(delay.sql).toContain('weight_decay AS x');
    expect(delay.sql).toContain("sweep IN ('wd')");
    expect(delay.view.kind === 'chart' && delay.view.option.xAxis).toMatchObject({ name: 'weight_decay' });
    expect(delay.view.kind === 'chart' && (delay.view.option.series as { data: unknown[] }[])[0]!.data).toEqual([
      [0.1, sampleMilestones(t.runs.b).grok_delay, 'grok-b'],
      [1, sampleMilestones(t.runs.a).grok_delay, 'grok-a'],
    ]);
    expect(panelOf(sweepSections[1], 'delay-vs-hp').sql).toContain('train_fraction AS x');
    const loss = panelOf(section(sweep, 'grokstream-run-overview'), 'loss').view;
    expect(loss.kind === 'chart' && loss.bands).toBe(0);
    const timeline = panelOf(section(sweep, 'grokstream-phases-stops'), 'phase-timeline').view;
    expect(timeline.kind === 'chart' && timeline.option.yAxis).toMatchObject({ data: ['grok-a', 'grok-b'] });
  });

  it('several runs by id: overlaid, titled by their count', async () => {
    const m = await buildReport(t.query, { database: db, runs: ['grok-c', 'grok-b'] });
    expect(m.title).toBe('2 runs');
    expect(m.runs.map((r) => r.run_id)).toEqual(['grok-b', 'grok-c']);
    const acc = panelOf(section(m, 'grokstream-run-overview'), 'accuracy').view;
    expect(acc.kind === 'chart' && (acc.option.series as { name: string }[]).map((s) => s.name)).toEqual([
      'test_acc · grok-b',
      'train_acc · grok-b',
      'test_acc · grok-c',
      'train_acc · grok-c',
    ]);
    expect(acc.points).toBe(2 * (t.runs.b.steps.length + t.runs.c.steps.length));
  });

  it('$points downsamples the step-axis curves', async () => {
    const m = await buildReport(t.query, { database: db, runs: ['grok-a'], points: 30 });
    const acc = panelOf(section(m, 'grokstream-run-overview'), 'accuracy');
    // 299 steps over 30 points: buckets of 10 steps, 30 per metric.
    expect(acc.view.points).toBe(60);
    expect(acc.sql).toContain('step_rollups');
  });

  it('NaN and big integers: left out of the curves, and the model still goes into the page as JSON', async () => {
    // The store returns integers beyond 2^53 as bigints: make some summary columns come back so.
    const big = new Set(['last_step', 'grok_delay', 'memorized_step']);
    const bigQuery: QueryRows = async (sql) =>
      (await t.query(sql)).map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, big.has(k) && typeof v === 'number' ? BigInt(v) : v])));
    const m = await buildReport(bigQuery, { database: db, runs: ['grok-b'] });
    const b = t.runs.b;
    // grok-b's last train loss is NaN: its final_train_loss too, and the loss curve leaves it out.
    expect(m.runs[0]!.summary.final_train_loss).toBeNaN();
    expect(m.runs[0]!.summary.last_step).toBe(199n);
    const finite = (k: 'train_loss' | 'test_loss') => b.steps.filter((s) => typeof s[k] === 'number' && Number.isFinite(s[k]) && s[k] > 0).length;
    expect(finite('train_loss')).toBe(b.steps.length - 1);
    expect(panelOf(section(m, 'grokstream-run-overview'), 'loss').view.points).toBe(finite('train_loss') + finite('test_loss'));

    const table = panelOf(section(m, 'grokstream-phases-stops'), 'grokking-table').view;
    expect(table.kind).toBe('table');
    if (table.kind === 'table') {
      const cell = (c: string) => table.rows[0]![table.columns.indexOf(c)];
      expect(cell('last_step')).toBe('199');
      expect(cell('grok_delay')).toBe(String(sampleMilestones(b).grok_delay));
      expect(cell('grokked_step')).toBe(sampleMilestones(b).grokked_step);
    }
    expect(panelOf(section(m, 'grokstream-phases-stops'), 'grok-delay-hist').view).toMatchObject({ kind: 'chart', points: 1 });

    const json = JSON.parse(scriptJson(m)) as ReportModel;
    expect(json.runs[0]!.summary.last_step).toBe('199');
    expect(json.runs[0]!.summary.final_train_loss).toBeNull();
    expect(json.sections.map((s) => s.panels.length)).toEqual(m.sections.map((s) => s.panels.length));
    // Every view survives JSON as it was built.
    for (const s of m.sections) for (const p of s.panels) expect(JSON.parse(JSON.stringify(p.view)), `${s.id}/${p.id}`).toEqual(p.view);
  });
});
