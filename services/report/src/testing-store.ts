// A small seeded chdb store for the report specs (report-model.spec.ts, server.spec.ts): three
// sample runs, two of them a sweep whose runs differ in weight decay and train fraction. Each
// spec file gets its own data directory (chdb opens one per process, and spec files run in
// parallel worker processes). Kept small: seeding is most of the specs' time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStore, insertSampleRun, sampleRun, type SampleRun } from '@grokstream/store';
import type { QueryRows } from '@grokstream/panels';

/**
 * The seeded runs, oldest first:
 * - grok-a: sweep wd, weight decay 1, train fraction 0.5, probes, stopped by `grokking`;
 * - grok-b: sweep wd, weight decay 0.1, train fraction 0.3, probes, completed; its last step's
 *   train loss is NaN (a diverging step), so its final_train_loss is NaN;
 * - grok-c: no sweep, lr 0.01, no probes (probeEvery 0), completed: the latest run.
 */
export function seededRuns(): { a: SampleRun; b: SampleRun; c: SampleRun } {
  const b = sampleRun({ runId: 'grok-b', steps: 200, memorizedAt: 40, grokkedAt: 120, sweep: 'wd', weightDecay: 0.1, trainFraction: 0.3, startMs: 1_750_000_100_000, swept: { 'optimizer.weight_decay': '0.1', 'task.train_fraction': '0.3' } });
  b.steps[b.steps.length - 1]!.train_loss = NaN;
  return {
    a: sampleRun({ runId: 'grok-a', steps: 300, memorizedAt: 60, grokkedAt: 150, sweep: 'wd', weightDecay: 1, stoppedBy: 'grokking', probeEvery: 10, swept: { 'optimizer.weight_decay': '1', 'task.train_fraction': '0.5' } }),
    b,
    // probeEvery 0: `step % 0` is never 0, so this run has no probes at all.
    c: sampleRun({ runId: 'grok-c', steps: 120, memorizedAt: 30, grokkedAt: 90, lr: 0.01, probeEvery: 0, startMs: 1_750_000_200_000 }),
  };
}

export interface TestStore {
  store: ChdbStore;
  query: QueryRows;
  database: string;
  runs: ReturnType<typeof seededRuns>;
  close(): Promise<void>;
}

/** A fresh data directory with the three runs in `database`, and an empty database `empty_db`. */
export async function seededStore(prefix: string, database = 'report_spec'): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), `grokstream-${prefix}-`));
  const store = new ChdbStore({ path: dir, database });
  await store.migrate();
  const empty = new ChdbStore({ path: dir, database: 'empty_db' });
  await empty.migrate();
  await empty.close();
  const runs = seededRuns();
  for (const r of [runs.a, runs.b, runs.c]) await insertSampleRun(store, r, 1000);
  return {
    store,
    database,
    runs,
    query: (sql) => store.query<Record<string, unknown>>(sql),
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
