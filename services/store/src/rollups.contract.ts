// What the rollups (rollups.ts) promise, on both stores: rollups.spec.ts (chdb) and
// tests/integration/clickhouse-store.test.ts (the ClickHouse 18.16 server).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Store, StoreRow } from './store.ts';
import { MIGRATIONS, migrate } from './migrations.ts';
import { insertSampleRun, sampleMilestones, sampleRun } from './sample-runs.ts';
import { STEP_METRICS, longFormSql, metricFamilies } from './rollups.ts';
import { GENERALIZED_TEST_ACC, MEMORIZED_TRAIN_ACC } from '@grokstream/schemas';

interface Bucket {
  bucket: number;
  min: number;
  max: number;
  avg: number;
  last: number;
}

/** The buckets of one metric computed here, from the rows: what step_rollups must hold. */
function expectedBuckets(rows: StoreRow[], metric: string, width: number): Bucket[] {
  const by = new Map<number, { values: number[]; lastStep: number; last: number }>();
  for (const r of rows) {
    const v = r[metric];
    if (v === null || v === undefined) continue;
    const step = Number(r.step);
    const b = Math.floor(step / width);
    const e = by.get(b) ?? { values: [], lastStep: -1, last: NaN };
    e.values.push(Number(v));
    if (step > e.lastStep) Object.assign(e, { lastStep: step, last: Number(v) });
    by.set(b, e);
  }
  return [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([bucket, e]) => ({
      bucket,
      min: Math.min(...e.values),
      max: Math.max(...e.values),
      avg: e.values.reduce((s, x) => s + x, 0) / e.values.length,
      last: e.last,
    }));
}

const bucketsSql = (db: string, run: string, metric: string, width: number) =>
  `SELECT bucket, minMerge(min_value) AS min, maxMerge(max_value) AS max, avgMerge(avg_value) AS avg, ` +
  `argMaxMerge(last_value) AS last FROM ${db}.step_rollups ` +
  `WHERE run_id = '${run}' AND metric = '${metric}' AND width = ${width} GROUP BY bucket ORDER BY bucket`;

function expectBucketsClose(actual: Bucket[], expected: Bucket[]): void {
  expect(actual.map((b) => b.bucket)).toEqual(expected.map((b) => b.bucket));
  actual.forEach((a, i) => {
    const e = expected[i]!;
    expect(a.min).toBe(e.min);
    expect(a.max).toBe(e.max);
    expect(a.last).toBe(e.last);
    expect(a.avg).toBeCloseTo(e.avg, 9);
  });
}

export function rollupsContract(name: string, makeStore: (database: string) => Promise<Store>): void {
  describe(`rollups: ${name}`, () => {
    const database = `rollups_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    let store: Store;
    const run = sampleRun({ runId: 'grok-a', steps: 2500, memorizedAt: 300, grokkedAt: 1200, evalEvery: 3, sweep: 'wd', weightDecay: 0.5, stoppedBy: 'grokking' });
    const other = sampleRun({ runId: 'grok-b', steps: 400, memorizedAt: 100, grokkedAt: 350, hidden: 64, lr: 0.01, trainFraction: 0.3, seed: 7 });

    beforeAll(async () => {
      store = await makeStore(database);
      await store.migrate();
      // Chunks of 700 rows: buckets span inserts, so the views' partial states must merge.
      await insertSampleRun(store, run, 700);
      await insertSampleRun(store, other, 700);
    });

    afterAll(async () => {
      await store.command(`DROP DATABASE IF EXISTS ${database}`);
      await store.close();
    });

    it('holds min, max, avg and last of every bucket at every width, for step and probe metrics', async () => {
      for (const width of [10, 100, 1000]) {
        for (const metric of ['train_loss', 'test_acc', 'weight_norm']) {
          const actual = await store.query<Bucket>(bucketsSql(database, 'grok-a', metric, width));
          expectBucketsClose(actual, expectedBuckets(run.steps, metric, width));
        }
        const ranks = run.probes.map((p) => ({ step: p.step!, v: (p.gop_effective_rank as number[])[0]! }));
        expectBucketsClose(await store.query<Bucket>(bucketsSql(database, 'grok-a', 'gop_effective_rank@model', width)), expectedBuckets(ranks, 'v', width));
      }
    });

    it('names per-layer, per-scope, eigenvalue and extra metrics', async () => {
      const metrics = (await store.query<{ metric: string }>(`SELECT DISTINCT metric FROM ${database}.step_rollups WHERE run_id = 'grok-a' ORDER BY metric`)).map((r) => r.metric);
      for (const m of ['layer_norm@1', 'layer_norm@2', 'gop_eig1@model', 'gop_eig3@model', 'gop_eig2@dense_1', 'gop_condition_number@dense_2', 'extra.fourier_sparsity', 'hessian_top_eig', 'init_distance']) {
        expect(metrics).toContain(m);
      }
      // dense_1 has two eigenvalues: no third.
      expect(metrics).not.toContain('gop_eig3@dense_1');
      const [eig] = await store.query<{ last: number }>(
        `SELECT argMaxMerge(last_value) AS last FROM ${database}.step_rollups WHERE run_id = 'grok-a' AND metric = 'gop_eig2@model' AND width = 1000 AND bucket = 0`,
      );
      expect(eig!.last).toBe(0.7);
    });

    it('reads the long form of chosen metric families as the same rows as the whole', async () => {
      const sorted = (sql: string) => `SELECT metric, step, value FROM (${sql}) ORDER BY metric, step`;
      const where = `run_id = 'grok-a' AND step < 100`;
      const picked = await store.query(sorted(longFormSql(database, 'probes', where, true, ['gop_eig', 'hessian_trace', 'extra'])));
      const whole = await store.query<{ metric: string }>(sorted(longFormSql(database, 'probes', where)));
      const wanted = whole.filter((r) => /^gop_eig\d@|^hessian_trace$|^extra\./.test(r.metric));
      expect(wanted.length).toBe(90); // 10 probes x (7 eigenvalues + hessian_trace + fourier_sparsity)
      expect(picked).toEqual(wanted);
      expect(await store.query(longFormSql(database, 'steps', where, true, ['gop_eig']))).toEqual([]);
      expect(metricFamilies('steps')).toEqual([...STEP_METRICS, 'layer_norm', 'extra']);
    });

    it('keeps min, max and last when events are delivered twice', async () => {
      const before = await store.query<Bucket>(bucketsSql(database, 'grok-b', 'train_loss', 100));
      await store.insert('steps', other.steps.slice(50, 250));
      const after = await store.query<Bucket>(bucketsSql(database, 'grok-b', 'train_loss', 100));
      expect(after.map(({ min, max, last }) => ({ min, max, last }))).toEqual(before.map(({ min, max, last }) => ({ min, max, last })));
    });

    it('summarizes each run: hyperparameters, accuracy milestones, phase steps, stop, end and final accuracies', async () => {
      const rows = await store.query(`SELECT * FROM ${database}.run_summary ORDER BY run_id`);
      const lastEval = [...run.steps].reverse().find((s) => s.test_acc !== null)!;
      // The trainer's milestones (schemas/src/milestones.ts), from the rows themselves.
      const milestones = (r: typeof run) => {
        const m = sampleMilestones(r);
        expect(m.grok_delay).toBeGreaterThan(0);
        return m;
      };
      expect(rows).toEqual([
        expect.objectContaining({
          run_id: 'grok-a',
          task: 'modular',
          sweep: 'wd',
          lr: 0.003,
          weight_decay: 0.5,
          train_fraction: 0.5,
          width: 128,
          seed: 0,
          ...milestones(run),
          memorization_at: 300,
          grokking_at: 1200,
          converged_at: 1450,
          last_phase: 'CONVERGED',
          stop_policy: 'grokking',
          ended: 'early_stopped',
          last_step: 2499,
          final_train_acc: 1,
          final_test_acc: lastEval.test_acc,
        }),
        expect.objectContaining({
          run_id: 'grok-b',
          sweep: null,
          lr: 0.01,
          train_fraction: 0.3,
          width: 64,
          seed: 7,
          ...milestones(other),
          memorization_at: 100,
          grokking_at: 350,
          stop_policy: null,
          ended: 'completed',
          last_step: 399,
        }),
      ]);
    });

    it('fills the rollups from rows stored before the migration that made them', async () => {
      const old = `${database}_v2`;
      const oldStore = await makeStore(old);
      await migrate(oldStore, old, MIGRATIONS.filter((m) => m.version < 3));
      try {
        await insertSampleRun(oldStore, other, 700);
        const upgraded = await oldStore.migrate();
        expect(upgraded.applied).toEqual([3, 4]);
        expectBucketsClose(await store.query<Bucket>(bucketsSql(old, 'grok-b', 'train_loss', 10)), expectedBuckets(other.steps, 'train_loss', 10));
        const [summary] = await store.query(`SELECT memorization_at, memorized_step, ended FROM ${old}.run_summary`);
        expect(summary).toEqual({ memorization_at: 100, memorized_step: sampleMilestones(other).memorized_step, ended: 'completed' });
        // And the views feed them from then on.
        const late = sampleRun({ runId: 'grok-c', steps: 50, memorizedAt: 10, grokkedAt: 30 });
        await insertSampleRun(oldStore, late);
        // A run that generalizes before it memorizes did not grok: no grokking step, no delay.
        const early = sampleRun({ runId: 'grok-early', steps: 50, memorizedAt: 40, grokkedAt: 5 });
        await insertSampleRun(oldStore, early);
        expect(await store.query(`SELECT count() AS n FROM ${old}.run_summary`)).toEqual([{ n: 3 }]);
        const firstAt = (field: 'train_acc' | 'test_acc', threshold: number) => Number(early.steps.find((s) => s[field] !== null && Number(s[field]) >= threshold)!.step);
        expect(firstAt('test_acc', GENERALIZED_TEST_ACC)).toBeLessThan(firstAt('train_acc', MEMORIZED_TRAIN_ACC));
        expect(sampleMilestones(early)).toMatchObject({ grokked_step: null, grok_delay: null });
        expect(await store.query(`SELECT memorized_step, generalized_step, grokked_step, grok_delay FROM ${old}.run_summary WHERE run_id = 'grok-early'`)).toEqual([
          { memorized_step: firstAt('train_acc', MEMORIZED_TRAIN_ACC), generalized_step: firstAt('test_acc', GENERALIZED_TEST_ACC), grokked_step: null, grok_delay: null },
        ]);
      } finally {
        await store.command(`DROP DATABASE IF EXISTS ${old}`);
        await oldStore.close();
      }
    });
  });
}
