// Case 7: the read-only ClickHouse user of deploy/local (grokstream_reader; password from
// GROKSTREAM_CLICKHOUSE_READER_PASSWORD or <stack dir>/clickhouse/reader.password) reads but cannot
// write, and no password reaches any log: the captured stdout/stderr of every process the suite
// started (this case starts services with the password in their settings, on paths that fail and
// print errors) must not contain the reader's password, nor the services' own one when they have
// one (GROKSTREAM_CLICKHOUSE_PASSWORD).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { ClickHouseStore } from '@grokstream/store';
import { CLICKHOUSE_HTTP_PORT, CLICKHOUSE_URL, LOG_DIR, STACK_DIR, uniqueId } from './env.ts';
import { ensureStack } from './stack.ts';
import { killAll, spawnCli, spawnIngest, type Proc } from './procs.ts';
import { clickhouse } from './checks.ts';
import { CaseResult } from './results.ts';

const CASE = 'readonly-secrets';
const READER = 'grokstream_reader';
const READER_PASSWORD_FILE = join(STACK_DIR, 'clickhouse', 'reader.password');

function readerPassword(): { password?: string; from: string } {
  const env = process.env.GROKSTREAM_CLICKHOUSE_READER_PASSWORD;
  if (env) return { password: env, from: 'GROKSTREAM_CLICKHOUSE_READER_PASSWORD' };
  if (existsSync(READER_PASSWORD_FILE)) {
    const line = readFileSync(READER_PASSWORD_FILE, 'utf8').split(/\r?\n/)[0] ?? '';
    if (line) return { password: line, from: READER_PASSWORD_FILE };
  }
  return { from: `neither GROKSTREAM_CLICKHOUSE_READER_PASSWORD nor ${READER_PASSWORD_FILE}` };
}

/** One statement over HTTP as `user` (basic auth: nothing in the URL for a server log to keep). */
async function asUser(user: string, password: string, sql: string, params = ''): Promise<{ ok: boolean; status: number; body: string }> {
  const res = await fetch(`${CLICKHOUSE_URL}/${params}`, {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
    body: sql,
    signal: AbortSignal.timeout(10_000),
  });
  return { ok: res.ok, status: res.status, body: (await res.text()).trim() };
}

function allFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

describe('fault: read-only user and secrets in logs', () => {
  const id = uniqueId();
  const database = `faults_ro_${id}`;
  let admin: ClickHouseStore;

  beforeAll(async () => {
    await ensureStack();
    admin = clickhouse(database);
    await admin.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
    await admin.command(`CREATE TABLE ${database}.t (x UInt64) ENGINE = MergeTree ORDER BY x`);
    await admin.command(`INSERT INTO ${database}.t VALUES (1)`);
  });

  afterAll(async () => {
    await killAll();
    await admin?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => {});
    await admin?.close();
  });

  it('grokstream_reader reads and cannot write; no password in any captured log', async () => {
    const r = new CaseResult('readonly-user-and-secrets');
    await r.run(async () => {
      const { password, from } = readerPassword();
      r.metric('reader_password_from', from);
      if (!r.check('deploy/local provides the reader password', password !== undefined, from) || !password) return;

      // Reads work.
      const one = await asUser(READER, password, 'SELECT 1');
      r.check('reader: SELECT 1 works', one.ok && one.body === '1', one);
      const count = await asUser(READER, password, `SELECT count() FROM ${database}.t`);
      r.check('reader: SELECT from a table works', count.ok && count.body === '1', count);
      const settings = await asUser(READER, password, 'SELECT 1 FORMAT JSON', '?output_format_json_quote_denormals=1');
      r.check('reader: a query with settings works (what the store and Grafana send)', settings.ok, settings);
      const wrong = await asUser(READER, `${password}x`, 'SELECT 1');
      r.check('a wrong password is refused', !wrong.ok && /password|authenticat/i.test(wrong.body), wrong);

      // Writes of every kind fail with a read-only error.
      const readonlyError = /readonly|read-only|read only|Code: 164/i;
      const writes: Array<[string, string, string?]> = [
        ['INSERT', `INSERT INTO ${database}.t VALUES (2)`],
        ['CREATE TABLE', `CREATE TABLE ${database}.t2 (x UInt64) ENGINE = MergeTree ORDER BY x`],
        ['CREATE DATABASE', `CREATE DATABASE ${database}_x`],
        ['DROP TABLE', `DROP TABLE ${database}.t`],
        ['ALTER TABLE', `ALTER TABLE ${database}.t DELETE WHERE x = 1`],
        ['OPTIMIZE', `OPTIMIZE TABLE ${database}.t FINAL`],
        ['INSERT with readonly=0 asked per query', `INSERT INTO ${database}.t VALUES (3)`, '?readonly=0'],
      ];
      for (const [what, sql, params] of writes) {
        const res = await asUser(READER, password, sql, params);
        r.check(`reader: ${what} fails with a read-only error`, !res.ok && readonlyError.test(res.body), res);
      }
      const after = await admin.query<{ n: number | string }>(`SELECT count() AS n FROM ${database}.t`);
      r.equal('the table is unchanged (1 row)', Number(after[0]?.n), 1);
      const t2 = await admin.query<{ n: number | string }>(`SELECT count() AS n FROM system.tables WHERE database = '${database}' AND name = 't2'`);
      r.equal('no table was created', Number(t2[0]?.n), 0);

      // Services given the reader's password (they need to write, so they fail and say why) must
      // not print it, whichever way it reaches them, even at debug level.
      const pwFile = READER_PASSWORD_FILE;
      const failing: Array<{ name: string; proc: () => Proc; code: 'nonzero' | number }> = [
        {
          name: 'ingest as reader (GROKSTREAM_CLICKHOUSE_PASSWORD)',
          proc: () => spawnIngest(CASE, { name: 'ingest-reader-env', database: `${database}_ingest`, group: `faults-ro-${id}`, env: { GROKSTREAM_CLICKHOUSE_USER: READER, GROKSTREAM_CLICKHOUSE_PASSWORD: password, GROKSTREAM_LOG_LEVEL: 'debug' } }),
          code: 'nonzero',
        },
        {
          name: 'ingest as reader (password in the URL)',
          proc: () =>
            spawnIngest(CASE, {
              name: 'ingest-reader-url',
              database: `${database}_ingest`,
              group: `faults-ro-${id}`,
              env: { GROKSTREAM_CLICKHOUSE_URL: `http://${READER}:${encodeURIComponent(password)}@127.0.0.1:${CLICKHOUSE_HTTP_PORT}`, GROKSTREAM_LOG_LEVEL: 'debug' },
            }),
          code: 'nonzero',
        },
        {
          name: 'ingest as reader (GROKSTREAM_CLICKHOUSE_PASSWORD_FILE)',
          proc: () => spawnIngest(CASE, { name: 'ingest-reader-file', database: `${database}_ingest`, group: `faults-ro-${id}`, env: { GROKSTREAM_CLICKHOUSE_USER: READER, GROKSTREAM_CLICKHOUSE_PASSWORD_FILE: pwFile, GROKSTREAM_LOG_LEVEL: 'debug' } }),
          code: 'nonzero',
        },
        {
          name: 'ingest with a malformed URL holding the password',
          proc: () => spawnIngest(CASE, { name: 'ingest-bad-url', database: `${database}_ingest`, group: `faults-ro-${id}`, env: { GROKSTREAM_CLICKHOUSE_URL: `ftp://${READER}:${encodeURIComponent(password)}@127.0.0.1:1/`, GROKSTREAM_LOG_LEVEL: 'debug' } }),
          code: 2,
        },
        {
          name: 'grokstream --help with the password in the environment',
          proc: () => spawnCli(CASE, 'help-with-password', ['--help'], { GROKSTREAM_CLICKHOUSE_USER: READER, GROKSTREAM_CLICKHOUSE_PASSWORD: password }),
          code: 0,
        },
      ];
      for (const f of failing) {
        const p = f.proc();
        const exit = await p.waitExit(60_000);
        if (!exit) await p.killHard();
        const ok = exit !== undefined && (f.code === 'nonzero' ? exit.code !== 0 && exit.code !== null : exit.code === f.code);
        r.check(`${f.name}: exits ${f.code}`, ok, exit ? `exit ${exit.code}: ${p.tail(1200)}` : `still running after 60 s: ${p.tail(1200)}`);
        if (f.code !== 0) r.check(`${f.name}: says why (read-only / bad URL)`, /readonly|read-only|read only|164|URL|denied|not allowed/i.test(p.output), p.tail(1200));
      }

      // Every captured log of every process this suite run started, this case's and the others'.
      const secrets: Array<[string, string]> = [['reader password', password]];
      if (process.env.GROKSTREAM_CLICKHOUSE_PASSWORD) secrets.push(['services password', process.env.GROKSTREAM_CLICKHOUSE_PASSWORD]);
      else r.metric('services_password', 'none: deploy/local runs the services as "default" without a password, so only the reader password is checked');
      const logs = allFiles(LOG_DIR);
      const leaks: string[] = [];
      for (const file of logs) {
        const text = readFileSync(file, 'utf8');
        for (const [what, secret] of secrets) {
          if (text.includes(secret) || text.includes(encodeURIComponent(secret))) leaks.push(`${what} in ${file.slice(LOG_DIR.length + 1)}`);
        }
      }
      const cases = [...new Set(logs.map((f) => f.slice(LOG_DIR.length + 1).split('/')[0]))];
      r.metric('captured_logs', { files: logs.length, cases });
      r.set({ dead_letters: null });
      r.check('no password in any captured process output', leaks.length === 0, leaks.join('\n'));
      // The servers' own logs are not the suite's capture, but a password there is a leak too.
      const serverLeaks = allFiles(STACK_DIR)
        .filter((f) => /\.log(\.prev)?$/.test(f))
        .filter((f) => secrets.some(([, s]) => readFileSync(f, 'utf8').includes(s)))
        .map((f) => f.slice(STACK_DIR.length + 1));
      r.metric('server_logs_with_a_password', serverLeaks);
      r.check('no password in the private stack\'s server logs', serverLeaks.length === 0, serverLeaks.join(', '));
    });
  }, 240_000);
});
