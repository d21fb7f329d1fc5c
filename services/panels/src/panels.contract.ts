// Every panel's SQL, expanded as the Grafana plugin expands it, runs on seeded data and returns
// the fields the panel reads, with the right values: panels.spec.ts (chdb) and
// tests/integration/panels.test.ts (the ClickHouse 18.16 server).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { insertSampleRun, sampleMilestones, sampleRun, type Store } from '@grokstream/store';
import { DASHBOARDS, VARIABLES, allPanels } from './catalogue.ts';
import { expandSql, type ExpansionContext } from './macros.ts';
import { resolveVariables, type Selection } from './selection.ts';

type Row = Record<string, unknown>;
/** A sample run's accuracy milestones, as run_summary has them. */
const ms = sampleMilestones;

export function panelsContract(name: string, makeStore: (database: string) => Promise<Store>): void {
  describe(`panel SQL: ${name}`, () => {
    const database = `panels_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    let store: Store;
    const a = sampleRun({ runId: 'grok-a', steps: 2500, memorizedAt: 300, grokkedAt: 1200, sweep: 'wd', weightDecay: 1, stoppedBy: 'grokking', swept: { 'optimizer.weight_decay': '1', 'task.op': 'mul' } });
    const b = sampleRun({ runId: 'grok-b', steps: 400, memorizedAt: 100, grokkedAt: 350, sweep: 'wd', weightDecay: 0.1, startMs: 1_750_000_300_000, swept: { 'optimizer.weight_decay': '0.1', 'task.op': 'add' } });
    const c = sampleRun({ runId: 'grok-c', steps: 300, memorizedAt: 80, grokkedAt: 250, sweep: 'lr', lr: 0.01, startMs: 1_750_000_600_000, swept: { 'optimizer.lr': '0.01' } });
    const query = (sql: string) => store.query<Row>(sql);
    const selection = (values: Selection['values'], dashboard?: Selection['dashboard']): Selection => ({
      database,
      values,
      ...(dashboard ? { dashboard } : {}),
      fromMs: 1_749_999_000_000,
      toMs: Date.now() + 3_600_000,
      intervalS: 10,
    });
    const run = async (sql: string, ctx: ExpansionContext) => query(expandSql(sql, ctx));

    beforeAll(async () => {
      store = await makeStore(database);
      await store.migrate();
      for (const r of [a, b, c]) await insertSampleRun(store, r, 800);
    });

    afterAll(async () => {
      await store.command(`DROP DATABASE IF EXISTS ${database}`);
      await store.close();
    });

    it('resolves the variables as Grafana opens a dashboard: latest run first, sweeps and layers on All', async () => {
      const ctx = await resolveVariables(query, selection({}));
      expect(ctx.variables.run).toEqual({ values: ['grok-c'] });
      expect(ctx.variables.sweep).toEqual({ values: ['lr', 'wd'], all: true });
      expect(ctx.variables.layer).toEqual({ values: ['dense_1', 'dense_2'], all: true });
      const wd = await resolveVariables(query, selection({ sweep: ['wd'], run: 'all' }));
      expect(wd.variables.run).toEqual({ values: ['grok-b', 'grok-a'], all: true });
    });

    describe('every panel returns rows with the fields it reads', () => {
      const cases = allPanels().map(({ dashboard, panel }) => ({
        label: `${dashboard.uid} / ${panel.id}`,
        dashboard,
        panel,
        values: panel.scope === 'run' ? { run: ['grok-a'], metric: ['train_loss', 'gop_eig1@model'] } : {},
      }));
      for (const { label, dashboard, panel, values } of cases) {
        it(label, async () => {
          const ctx = await resolveVariables(query, selection(values, dashboard));
          const rows = await run(panel.sql, ctx);
          expect(rows.length, 'rows').toBeGreaterThan(0);
          for (const f of panel.fields) expect(Object.keys(rows[0]!), `field ${f}`).toContain(f);
        });
      }
      for (const d of DASHBOARDS) {
        for (const an of d.annotations) {
          it(`${d.uid} / annotation ${an.name}`, async () => {
            const rows = await run(an.sql, await resolveVariables(query, selection({ run: ['grok-a'] })));
            expect(rows.length).toBeGreaterThan(0);
            for (const f of an.fields) expect(Object.keys(rows[0]!)).toContain(f);
          });
        }
      }
    });

    const panel = (id: string) => allPanels().find((p) => p.panel.id === id)!.panel;

    it('shows every step when the range fits the points, and bucket means when it does not', async () => {
      const short = await run(panel('loss').sql, await resolveVariables(query, selection({ run: ['grok-a'], step_to: ['499'] })));
      const train = short.filter((r) => r.metric === 'train_loss');
      expect(train.map((r) => r.step)).toEqual(a.steps.slice(0, 500).map((s) => s.step));
      expect(train.map((r) => r.value)).toEqual(a.steps.slice(0, 500).map((s) => s.train_loss));

      const whole = await run(panel('loss').sql, await resolveVariables(query, selection({ run: ['grok-a'], points: ['250'] })));
      const buckets = whole.filter((r) => r.metric === 'train_loss');
      // 2,499 steps over 250 points: buckets of 10 steps.
      expect(buckets.map((r) => r.step)).toEqual(Array.from({ length: 250 }, (_, i) => i * 10));
      const first = a.steps.slice(0, 10).map((s) => s.train_loss as number);
      expect(buckets[0]!.value as number).toBeCloseTo(first.reduce((s, x) => s + x, 0) / 10, 12);
      expect(buckets[0]!.low).toBe(Math.min(...first));
      expect(buckets[0]!.high).toBe(Math.max(...first));

      const coarse = await run(panel('loss').sql, await resolveVariables(query, selection({ run: ['grok-a'], points: ['2'] })));
      expect(coarse.filter((r) => r.metric === 'train_loss').map((r) => r.step)).toEqual([0, 1000, 2000]);
    });

    it('overlays runs, and names layers by the run’s layer names, filtered by $layer', async () => {
      const both = await run(panel('accuracy').sql, await resolveVariables(query, selection({ run: ['grok-b', 'grok-c'] })));
      expect(new Set(both.map((r) => r.run_id))).toEqual(new Set(['grok-b', 'grok-c']));
      const layers = await run(panel('layer-norms').sql, await resolveVariables(query, selection({ run: ['grok-b'], layer: ['dense_2'] })));
      expect(new Set(layers.map((r) => r.metric))).toEqual(new Set(['layer_norm@dense_2']));
      expect(layers).toHaveLength(400);
    });

    it('draws the phases as bands in order and the stop as an annotation', async () => {
      const ctx = await resolveVariables(query, selection({ run: ['grok-a'] }));
      const spans = await run(panel('phase-spans').sql, ctx);
      expect(spans.map((s) => [s.phase, s.step_from, s.step_to])).toEqual([
        ['WARMUP', 1, 300],
        ['MEMORIZATION', 300, 1200],
        ['GROKKING', 1200, 1450],
        ['CONVERGED', 1450, 2499],
      ]);
      const bands = await run(DASHBOARDS[0]!.annotations[0]!.sql, ctx);
      expect(bands.map((x) => x.tags)).toEqual(['WARMUP', 'MEMORIZATION', 'GROKKING', 'CONVERGED']);
      expect(bands.every((x) => (x.timeEnd as number) >= (x.time as number))).toBe(true);
      const stops = await run(DASHBOARDS[0]!.annotations[1]!.sql, ctx);
      expect(stops).toEqual([expect.objectContaining({ tags: 'grokking', time: a.commands[0]!.ts_ms as number - ((a.commands[0]!.ts_ms as number) % 1000) })]);
    });

    it('compares a sweep against the chosen hyperparameter', async () => {
      const sweepBoard = DASHBOARDS.find((d) => d.uid === 'grokstream-sweep')!;
      const ctx = await resolveVariables(query, selection({ sweep: ['wd'], hyperparameter: ['weight_decay'] }, sweepBoard));
      const delay = await run(panel('delay-vs-hp').sql, ctx);
      expect(delay.map((r) => [r.x, r.grok_delay, r.run_id])).toEqual([
        [0.1, ms(b).grok_delay, 'grok-b'],
        [1, ms(a).grok_delay, 'grok-a'],
      ]);
      const finals = await run(panel('metric-vs-hp').sql, ctx);
      const lastAcc = (r: typeof a) => [...r.steps].reverse().find((x) => x.test_acc !== null)!.test_acc;
      expect(finals.map((r) => [r.metric, r.x, r.final_value, r.run_id])).toEqual([
        ['test_acc', 0.1, lastAcc(b), 'grok-b'],
        ['test_acc', 1, lastAcc(a), 'grok-a'],
      ]);
      const table = await run(panel('grokking-table').sql, await resolveVariables(query, selection({ run: 'all' })));
      expect(table.map((r) => [r.run_id, r.memorized_step, r.grokked_step, r.stop_policy, r.ended])).toEqual([
        ['grok-a', ms(a).memorized_step, ms(a).grokked_step, 'grokking', 'early_stopped'],
        ['grok-b', ms(b).memorized_step, ms(b).grokked_step, null, 'completed'],
        ['grok-c', ms(c).memorized_step, ms(c).grokked_step, null, 'completed'],
      ]);
      // Beside them, the detector's phase onsets.
      expect(table.map((r) => [r.run_id, r.memorization_at, r.grokking_at])).toEqual([
        ['grok-a', 300, 1200],
        ['grok-b', 100, 350],
        ['grok-c', 80, 250],
      ]);
    });

    it('plots a sweep against each key it varied, from the runs\' swept: tags, numbers or not', async () => {
      const board = DASHBOARDS.find((d) => d.uid === 'grokstream-sweep-axes')!;
      const opened = await resolveVariables(query, selection({ sweep: ['wd'] }, board));
      // The keys the wd sweep varied; the first is the default, as Grafana opens it.
      const options = await run(VARIABLES.swept!.query!, opened);
      expect(options.map((r) => r.key)).toEqual(['optimizer.weight_decay', 'task.op']);
      expect(opened.variables.swept).toEqual({ values: ['optimizer.weight_decay'] });
      const ctx = await resolveVariables(query, selection({ sweep: ['wd'], swept: ['optimizer.weight_decay'] }, board));
      expect((await run(panel('delay-vs-swept').sql, ctx)).map((r) => [r.x, r.grok_delay, r.run_id])).toEqual([
        [0.1, ms(b).grok_delay, 'grok-b'],
        [1, ms(a).grok_delay, 'grok-a'],
      ]);
      expect((await run(panel('accuracy-vs-swept').sql, ctx)).map((r) => [r.x, r.run_id])).toEqual([
        [0.1, 'grok-b'],
        [1, 'grok-a'],
      ]);
      // Words, not numbers: no points to plot, but the table has every run with its value.
      const words = await resolveVariables(query, selection({ sweep: ['wd'], swept: ['task.op'] }, board));
      expect(await run(panel('delay-vs-swept').sql, words)).toEqual([]);
      expect((await run(panel('swept-table').sql, words)).map((r) => [r.value, r.run_id, r.grok_delay, r.stop_policy])).toEqual([
        ['add', 'grok-b', ms(b).grok_delay, null],
        ['mul', 'grok-a', ms(a).grok_delay, 'grokking'],
      ]);
    });
  });
}
