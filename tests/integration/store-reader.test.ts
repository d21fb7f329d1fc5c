// The local stack's read-only ClickHouse user (deploy/local/clickhouse/users.xml): it can read,
// with per-query settings, and cannot write or change the schema.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore, MIGRATIONS, migrate } from '@grokstream/store';
import { Secret, openReadableStore } from '@grokstream/shell';
import { sampleRows } from '../../services/store/src/store.contract.ts';
import { CLICKHOUSE_URL, requireClickHouse } from './services.ts';

const READER = 'grokstream_reader';
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STACK_DIR = process.env.GROKSTREAM_STACK_DIR ?? join(REPO_ROOT, '.grokstream/stack');
const PASSWORD_FILE = join(STACK_DIR, 'clickhouse/reader.password');

/** The password clickhouse.sh rendered into users.xml: the environment's, else the file's first line. */
function readerPassword(): string {
  const fromEnv = process.env.GROKSTREAM_CLICKHOUSE_READER_PASSWORD;
  if (fromEnv) return fromEnv;
  if (!existsSync(PASSWORD_FILE)) {
    throw new Error(
      `no ${PASSWORD_FILE}: start ClickHouse with deploy/local/clickhouse.sh (it makes the file), ` +
        'or set GROKSTREAM_CLICKHOUSE_READER_PASSWORD to the password it was started with',
    );
  }
  return readFileSync(PASSWORD_FILE, 'utf8').split('\n')[0]!;
}

const READ_ONLY = /readonly mode/;
const READONLY_SETTING = `SELECT value AS readonly FROM system.settings WHERE name = 'readonly'`;

describe(`read-only user ${READER}`, () => {
  const database = `reader_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const runId = `reader-${randomUUID()}`;
  let admin: ClickHouseStore;
  let reader: ClickHouseStore;
  let password: string;

  beforeAll(async () => {
    await requireClickHouse();
    password = readerPassword();
    admin = new ClickHouseStore({ url: CLICKHOUSE_URL, database });
    await admin.migrate();
    const [row] = sampleRows('steps', 1);
    await admin.insert('steps', [{ ...row!, run_id: runId, step: 1, train_loss: NaN, test_loss: -Infinity }]);
    reader = new ClickHouseStore({ url: CLICKHOUSE_URL, database, username: READER, password });
  });

  afterAll(async () => {
    await admin?.command(`DROP DATABASE IF EXISTS ${database}`);
    await reader?.close();
    await admin?.close();
  });

  it('reads, with the settings the store sends and with SELECT ... SETTINGS', async () => {
    // The store reads with output_format_json_quote_denormals=1: NaN and -Inf arrive as numbers.
    expect(await reader.query(`SELECT step, train_loss, test_loss FROM ${database}.steps WHERE run_id = '${runId}'`)).toEqual([
      { step: 1, train_loss: NaN, test_loss: -Infinity },
    ]);
    expect(await reader.query(`SELECT count() AS n FROM ${database}.steps SETTINGS max_threads = 1`)).toEqual([{ n: 1 }]);
    // 18.16 has no currentUser(); its profile's readonly=2 shows whose session this is.
    expect(await reader.query(READONLY_SETTING)).toEqual([{ readonly: '2' }]);
  });

  it('cannot insert, through the store or SQL', async () => {
    await expect(reader.insert('steps', sampleRows('steps', 1))).rejects.toThrow(READ_ONLY);
    await expect(reader.command(`INSERT INTO ${database}.steps SELECT * FROM ${database}.steps`)).rejects.toThrow(READ_ONLY);
  });

  it('cannot create, alter, drop or truncate', async () => {
    await expect(reader.command(`CREATE TABLE ${database}.made_by_reader (x UInt8) ENGINE = Memory`)).rejects.toThrow(READ_ONLY);
    await expect(reader.command(`CREATE DATABASE ${database}_other`)).rejects.toThrow(READ_ONLY);
    await expect(reader.command(`ALTER TABLE ${database}.steps DELETE WHERE 1`)).rejects.toThrow(READ_ONLY);
    await expect(reader.command(`DROP TABLE ${database}.steps`)).rejects.toThrow(READ_ONLY);
    await expect(reader.command(`TRUNCATE TABLE ${database}.steps`)).rejects.toThrow(READ_ONLY);
    await expect(reader.command(`DROP DATABASE ${database}`)).rejects.toThrow(READ_ONLY);
    // The data is all still there.
    expect(await admin.query(`SELECT count() AS n FROM ${database}.steps`)).toEqual([{ n: 1 }]);
  });

  it('cannot lift its own read-only setting', async () => {
    await expect(reader.query('SELECT 1 SETTINGS readonly = 0')).rejects.toThrow(/readonly/);
  });

  it('takes credentials from the URL, and never repeats the password in an error', async () => {
    const url = new URL(CLICKHOUSE_URL);
    url.username = READER;
    url.password = password;
    const viaUrl = new ClickHouseStore({ url: url.toString(), database });
    try {
      expect(viaUrl.url).not.toContain(password);
      expect(await viaUrl.query(READONLY_SETTING)).toEqual([{ readonly: '2' }]);
      const err = await viaUrl.insert('steps', sampleRows('steps', 1)).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(READ_ONLY);
    } finally {
      await viaUrl.close();
    }

    // The server echoes a bad query back; the store masks the password even there.
    const echoed = await reader.query(`SELEC '${password}'`).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(echoed?.message).toMatch(/Syntax error.*SELEC '\*\*\*'/);

    const wrong = `not-${password}`;
    url.password = wrong;
    const refused = new ClickHouseStore({ url: url.toString(), database });
    try {
      const err = await refused.migrate().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(/password|Authentication/i);
      for (const text of [err?.message, err?.stack, JSON.stringify(err, Object.getOwnPropertyNames(err ?? {}))]) {
        expect(text).not.toContain(wrong);
      }
    } finally {
      await refused.close();
    }
  });
});

describe('a read-only command on a server database an older grokstream wrote', () => {
  const database = `older_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  let admin: ClickHouseStore;

  beforeAll(async () => {
    await requireClickHouse();
    admin = new ClickHouseStore({ url: CLICKHOUSE_URL, database });
    await migrate(admin, database, MIGRATIONS.filter((m) => m.version < 4));
  });

  afterAll(async () => {
    await admin?.command(`DROP DATABASE IF EXISTS ${database}`);
    await admin?.close();
  });

  it('is refused, naming the missing migration and how to apply it, and the database is left as it was', async () => {
    const settings = { store: { kind: 'clickhouse' as const, url: CLICKHOUSE_URL, username: READER, password: new Secret(readerPassword()) }, database };
    await expect(openReadableStore(settings)).rejects.toThrow(/lacks schema migration 4 \(run summaries: accuracy milestones[^)]*\).*Start `grokstream ingest` against it once/);
    expect((await admin.query<{ version: number }>(`SELECT version FROM ${database}.schema_migrations ORDER BY version`)).map((r) => Number(r.version))).toEqual([1, 2, 3]);
    // Once its writer has migrated it, it opens.
    await admin.migrate();
    const store = await openReadableStore(settings);
    await store.close();
  });
});
