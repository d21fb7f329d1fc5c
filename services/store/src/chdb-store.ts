// Embedded store: the ClickHouse engine in-process through chdb. Same DDL and SQL as the server.
// chdb allows one data directory per process, so sessions are shared per path. Inserts send
// RowBinary, like the server store (see row-binary.ts).
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Session } from 'chdb';
import type { Store, StoreRow } from './store.ts';
import type { TableName } from './tables.ts';
import { encodeRows } from './encode-rows.ts';
import { decodeJsonResult, type Row } from './results.ts';
import { migrate } from './migrations.ts';
import { sqlIdent, sqlString } from './sql.ts';

export interface ChdbStoreOptions {
  /** Data directory; created if missing. */
  path: string;
  database?: string;
  /** The engine runs with `readonly=2`: reads work, writes and DDL are refused by the engine itself. */
  readonly?: boolean;
}

/**
 * chdb opens a data directory in one process at a time (the engine locks its `status` file):
 * a second process gets this error, naming the process that holds the data.
 */
export class ChdbBusyError extends Error {
  override readonly name = 'ChdbBusyError';
  readonly holder: number | undefined;

  constructor(path: string, cause: unknown) {
    const holder = lockHolder(path);
    const who = holder === undefined ? 'another process' : `process ${holder.pid}${holder.command ? ` (${holder.command})` : ''}`;
    super(
      `the chdb data at ${path} is in use by ${who}: chdb opens a data directory in one process at a time. ` +
        'Wait for it to finish, watch a run live with `grokstream run CONFIG --ui`, or set GROKSTREAM_DATA_DIR (or GROKSTREAM_CHDB_PATH) to another directory',
      { cause },
    );
    this.holder = holder?.pid;
  }
}

/** The live process named in the engine's status file, if any. */
function lockHolder(path: string): { pid: number; command: string } | undefined {
  try {
    const pid = Number(/^PID: (\d+)/m.exec(readFileSync(join(path, 'status'), 'utf8'))?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid) return undefined;
    process.kill(pid, 0); // throws when no such process
    let command = '';
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(1).join(' ').slice(0, 120);
    } catch {
      // not Linux, or gone: the pid is enough
    }
    return { pid, command };
  } catch {
    return undefined;
  }
}

// chdb holds one session per data directory in a process, so its mode is the session's.
// Statements on a session run one at a time, in the order they were asked for (chdb runs one at a
// time anyway): a reader (the live page) and a writer (ingest) in one process take turns.
interface Shared {
  session: Session;
  users: number;
  readonly: boolean;
  /** Settles when the last statement asked for has finished. */
  tail: Promise<unknown>;
}
const sessions = new Map<string, Shared>();

export class ChdbStore implements Store {
  readonly kind = 'chdb' as const;
  readonly database: string;
  private readonly path: string;
  private session: Session | undefined;
  private shared!: Shared;
  /** Where insert bodies wait for the engine to read them: beside the data, gone after each insert. */
  readonly spoolDir: string;

  constructor(options: ChdbStoreOptions) {
    this.database = sqlIdent(options.database ?? 'grokstream');
    this.path = resolve(options.path);
    this.spoolDir = join(this.path, 'insert-spool');
    mkdirSync(this.spoolDir, { recursive: true, mode: 0o700 });
    const readonly = options.readonly ?? false;
    const shared = sessions.get(this.path);
    if (shared) {
      this.shared = shared;
      if (shared.readonly !== readonly) {
        throw new Error(
          `chdb data at ${this.path} is already open ${shared.readonly ? 'read-only' : 'read-write'} in this process; ` +
            'chdb takes one session per data directory, so one mode per process',
        );
      }
      shared.users++;
      this.session = shared.session;
    } else {
      const args = ['--output_format_json_quote_denormals=1', ...(readonly ? ['--readonly=2'] : [])];
      try {
        this.session = new Session(this.path, { connectionArgs: args });
      } catch (err) {
        throw existsSync(join(this.path, 'status')) ? new ChdbBusyError(this.path, err) : err;
      }
      this.shared = { session: this.session, users: 1, readonly, tail: Promise.resolve() };
      sessions.set(this.path, this.shared);
    }
  }

  async migrate() {
    return migrate(this, this.database);
  }

  async insert(table: TableName, rows: StoreRow[]): Promise<void> {
    if (rows.length === 0) return;
    const session = this.open();
    const { columns, body } = encodeRows(table, rows);
    // chdb's insert() takes text formats only and SQL text cannot carry raw bytes, so the
    // RowBinary body goes through a private file that the engine reads with FROM INFILE.
    const file = join(this.spoolDir, `${randomUUID()}.rowbinary`);
    await writeFile(file, body, { mode: 0o600 });
    try {
      // optimize_on_insert = 0: rows are not collapsed by their ReplacingMergeTree key inside the
      // inserted block (a quarter of chdb's insert time). Merges and FINAL collapse them, as on
      // the 18.16 server, which has no such step: both stores keep the same rows.
      await this.serially(() => session.queryAsync(
        `INSERT INTO ${this.database}.${table} (${columns.join(', ')}) FROM INFILE ${sqlString(file)} ` +
          'SETTINGS optimize_on_insert = 0 FORMAT RowBinary',
        { format: 'TabSeparated' },
      ));
    } finally {
      await rm(file, { force: true });
    }
  }

  async query<T = Row>(sql: string): Promise<T[]> {
    const session = this.open();
    const res = await this.serially(() => session.queryAsync(sql, { format: 'JSON' }));
    return decodeJsonResult(res.text()) as T[];
  }

  async command(sql: string): Promise<void> {
    const session = this.open();
    await this.serially(() => session.queryAsync(sql, { format: 'TabSeparated' }));
  }

  async close(): Promise<void> {
    if (!this.session) return;
    const shared = sessions.get(this.path);
    this.session = undefined;
    if (shared && --shared.users === 0) {
      sessions.delete(this.path);
      shared.session.close();
    }
  }

  /** Runs `fn` once every statement asked for before it on this data directory has finished. */
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.shared.tail.then(fn, fn);
    this.shared.tail = run.catch(() => undefined);
    return run;
  }

  private open(): Session {
    if (!this.session) throw new Error(`chdb store at ${this.path} is closed`);
    return this.session;
  }
}
