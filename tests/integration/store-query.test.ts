// Ad hoc queries on the ClickHouse server: the named queries, the engine-enforced read-only
// mode, and `grokstream query` as a user runs it.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from '@grokstream/store';
import { queryContract } from '../../services/store/src/query.contract.ts';
import { sampleRows } from '../../services/store/src/store.contract.ts';
import { CLICKHOUSE_URL, requireClickHouse } from './services.ts';

queryContract(`ClickHouse server at ${CLICKHOUSE_URL}`, {
  writable: async (database) => new ClickHouseStore({ url: CLICKHOUSE_URL, database }),
  readonly: async (database) => new ClickHouseStore({ url: CLICKHOUSE_URL, database, readonly: true }),
});

describe('grokstream query', () => {
  const database = `query_cli_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const env = { ...process.env, GROKSTREAM_STORE: 'clickhouse', GROKSTREAM_CLICKHOUSE_URL: CLICKHOUSE_URL, GROKSTREAM_DATABASE: database };
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['services/cli/bin/grokstream.js', 'query', ...args], { env, encoding: 'utf8', timeout: 60_000 });
  let store: ClickHouseStore;

  beforeAll(async () => {
    await requireClickHouse();
    store = new ClickHouseStore({ url: CLICKHOUSE_URL, database });
    await store.migrate();
    await store.insert('steps', sampleRows('steps', 3));
  });

  afterAll(async () => {
    await store.command(`DROP DATABASE IF EXISTS ${database}`);
    await store.close();
  });

  it('prints rows in the asked format, and lists the named queries', () => {
    const json = cli([`SELECT step, train_loss FROM ${database}.steps FINAL ORDER BY step`, '--format', 'json']);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      { step: 0, train_loss: 0.25 },
      { step: 1, train_loss: 1.25 },
      { step: 2, train_loss: 2.25 },
    ]);
    // Runs come from run_summary: a run with steps but no RunStarted yet is listed, its task unknown.
    const table = cli(['runs']);
    expect(table.status).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^run_id +task +model +backend +started_at +ended +last_step$/);
    expect(lines.at(-1)).toMatch(/^\(3 rows/);
    expect(lines.slice(2, -1).map((l) => l.split(/ +/)[0]).sort()).toEqual(['run_id-0', 'run_id-1', 'run_id-2']);
    const empty = cli([`SELECT 1 AS one WHERE 0`]);
    expect(empty.stdout).toBe('(no rows)\n');
    const list = cli(['--list']);
    expect(list.stdout).toMatch(/^runs +the latest 100 runs/m);
    expect(list.stdout).toMatch(/^sweep +one row per run/m);
  });

  it('refuses a write with a read-only error (exit 1), and lets it through with --write', async () => {
    const write = cli([`INSERT INTO ${database}.steps (run_id, step) VALUES ('x', 9)`]);
    expect(write.status).toBe(1);
    expect(write.stderr).toMatch(/readonly mode.*queries are read-only; --write runs a statement that changes data/s);
    expect(write.stderr).not.toMatch(/^\s{4}at /m);
    expect(await store.query(`SELECT count() AS n FROM ${database}.steps`)).toEqual([{ n: 3 }]);
    const allowed = cli([`CREATE TABLE ${database}.notes (x Int64) ENGINE = Memory`, '--write']);
    expect(allowed.status).toBe(0);
  });

  it('says what is wrong with bad usage (exit 2)', () => {
    expect(cli([]).stderr).toMatch(/query needs SQL in quotes, or the name of a named query/);
    const fmt = cli(['runs', '--format', 'xml']);
    expect(fmt.status).toBe(2);
    expect(fmt.stderr).toMatch(/--format must be one of table, csv, json, jsonl/);
    const phases = cli(['phases']);
    expect(phases.status).toBe(2);
    expect(phases.stderr).toMatch(/query phases needs --run/);
  });
});
