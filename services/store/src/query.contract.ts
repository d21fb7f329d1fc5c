// Ad hoc queries on both stores: the named queries answer on a small seeded history, and a
// read-only store lets reads through while the engine refuses every write. Registered by
// query.spec.ts (chdb) and tests/integration/store-query.test.ts (the server).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Store, StoreRow } from './store.ts';
import { sampleRows } from './store.contract.ts';
import { NAMED_QUERIES, namedQuerySql } from './named-queries.ts';

const T0 = 1_800_000_000_000;

/** Two runs: r1 memorizes at step 3 and groks at step 6, then is stopped; r2 never learns. */
function history(): Partial<Record<'runs' | 'run_ends' | 'steps' | 'phases' | 'commands', StoreRow[]>> {
  const env = (run: string, seq: number) => ({ event_id: `${run}-${seq}`, run_id: run, seq, ts_ms: T0 + seq * 1000 });
  const [runRow] = sampleRows('runs', 1);
  const runs = ['r1', 'r2'].map((run, i) => ({
    ...runRow!,
    ...env(run, 0),
    task: 'modular',
    seed_init: i,
    config_json: JSON.stringify({ optimizer: { lr: 0.003 * (i + 1), weight_decay: 1 }, task: { train_fraction: 0.5 } }),
  }));
  const [stepRow] = sampleRows('steps', 1);
  const steps = ['r1', 'r2'].flatMap((run) =>
    Array.from({ length: 8 }, (_, k) => {
      const step = k + 1;
      const learns = run === 'r1';
      return { ...stepRow!, ...env(run, step), step, train_acc: learns ? Math.min(1, step / 3) : 0.1, test_acc: learns && step >= 6 ? 0.97 : 0.05 };
    }),
  );
  const [phaseRow] = sampleRows('phases', 1);
  const phases = [
    { ...phaseRow!, ...env('r1', 20), step: 3, phase: 'MEMORIZATION', previous_phase: 'WARMUP', detector: 'd' },
    { ...phaseRow!, ...env('r1', 21), step: 6, phase: 'GROKKING', previous_phase: 'MEMORIZATION', detector: 'd' },
  ];
  const [commandRow] = sampleRows('commands', 1);
  const commands = [{ ...commandRow!, ...env('r1', 30), command_id: 'c1', policy: 'converged', reason: 'done', step: 8, issued_by: 'd 1' }];
  const [endRow] = sampleRows('run_ends', 1);
  const run_ends = [{ ...endRow!, ...env('r1', 40), step: 8, reason: 'early_stopped', command_id: 'c1', error: null }];
  return { runs, steps, phases, commands, run_ends };
}

export function queryContract(name: string, o: { writable(database: string): Promise<Store>; readonly(database: string): Promise<Store> }): void {
  describe(`ad hoc queries: ${name}`, () => {
    const database = `adhoc_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    let ro: Store;

    beforeAll(async () => {
      const rw = await o.writable(database);
      await rw.migrate();
      for (const [table, rows] of Object.entries(history())) await rw.insert(table as never, rows);
      await rw.close(); // chdb: one session (and so one mode) per data directory at a time
      ro = await o.readonly(database);
    });

    afterAll(async () => {
      await ro.close();
      const rw = await o.writable(database);
      await rw.command(`DROP DATABASE IF EXISTS ${database}`);
      await rw.close();
    });

    it('answers every named query on the seeded history', async () => {
      const ask = (q: string, params: Record<string, string> = {}) => ro.query(namedQuerySql(q, database, params));
      const runs = await ask('runs');
      expect(runs.map((r) => [r.run_id, r.ended, r.last_step]).sort()).toEqual([
        ['r1', 'early_stopped', 8],
        ['r2', null, 8], // no RunFinished yet: still running, at its last stored step
      ]);
      expect(await ask('phases', { run: 'r1' })).toMatchObject([
        { step: 3, previous_phase: 'WARMUP', phase: 'MEMORIZATION' },
        { step: 6, previous_phase: 'MEMORIZATION', phase: 'GROKKING' },
      ]);
      expect(await ask('phases', { run: "no'such" })).toEqual([]);
      expect(await ask('stops')).toMatchObject([{ run_id: 'r1', step: 8, policy: 'converged', issued_by: 'd 1' }]);
      const sweep = await ask('sweep');
      expect(sweep).toMatchObject([
        { run_id: 'r1', lr: 0.003, weight_decay: 1, train_fraction: 0.5, seed: 0, memorized_step: 3, grokked_step: 6, grok_delay: 3, final_test_acc: 0.97, last_step: 8, ended: 'early_stopped' },
        { run_id: 'r2', lr: 0.006, width: null, memorized_step: null, grokked_step: null, grok_delay: null, last_step: 8, ended: null },
      ]);
      expect(NAMED_QUERIES.map((q) => q.name).sort()).toEqual(['phases', 'runs', 'stops', 'sweep']);
    });

    it('refuses every write through a read-only store, in the engine itself', async () => {
      expect(await ro.query(`SELECT count() AS n FROM ${database}.steps FINAL`)).toEqual([{ n: 16 }]);
      for (const sql of [
        `INSERT INTO ${database}.runs (run_id) VALUES ('x')`,
        `CREATE TABLE ${database}.evil (x Int64) ENGINE = Memory`,
        `DROP TABLE ${database}.steps`,
        `SELECT 1 SETTINGS readonly = 0`,
      ]) {
        await expect(ro.query(sql), sql).rejects.toThrow(/readonly/i);
      }
      await expect(ro.insert('steps', sampleRows('steps', 1))).rejects.toThrow(/readonly/i);
      expect(await ro.query(`SELECT count() AS n FROM ${database}.steps FINAL`)).toEqual([{ n: 16 }]);
    });
  });
}
