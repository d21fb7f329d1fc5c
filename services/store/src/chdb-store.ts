// Embedded store: the ClickHouse engine in-process through chdb. Same DDL and SQL as the server.
// chdb allows one data directory per process, so sessions are shared per path.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Session } from 'chdb';
import type { Store, StoreRow } from './store.ts';
import type { TableName } from './tables.ts';
import { encodeRows } from './encode-rows.ts';
import { decodeJsonResult, type Row } from './results.ts';
import { migrate } from './migrations.ts';
import { sqlIdent } from './sql.ts';

export interface ChdbStoreOptions {
  /** Data directory; created if missing. */
  path: string;
  database?: string;
}

const sessions = new Map<string, { session: Session; users: number }>();

export class ChdbStore implements Store {
  readonly kind = 'chdb' as const;
  readonly database: string;
  private readonly path: string;
  private session: Session | undefined;

  constructor(options: ChdbStoreOptions) {
    this.database = sqlIdent(options.database ?? 'grokstream');
    this.path = resolve(options.path);
    mkdirSync(this.path, { recursive: true });
    const shared = sessions.get(this.path);
    if (shared) {
      shared.users++;
      this.session = shared.session;
    } else {
      this.session = new Session(this.path, { connectionArgs: ['--output_format_json_quote_denormals=1'] });
      sessions.set(this.path, { session: this.session, users: 1 });
    }
  }

  async migrate() {
    return migrate(this, this.database);
  }

  async insert(table: TableName, rows: StoreRow[]): Promise<void> {
    if (rows.length === 0) return;
    const { columns, tsv } = encodeRows(table, rows);
    await this.open().insert({
      table: `${this.database}.${table}`,
      values: Buffer.from(tsv, 'utf8'),
      format: 'TabSeparated',
      columns,
    });
  }

  async query<T = Row>(sql: string): Promise<T[]> {
    const res = await this.open().queryAsync(sql, { format: 'JSON' });
    return decodeJsonResult(res.text()) as T[];
  }

  async command(sql: string): Promise<void> {
    await this.open().queryAsync(sql, { format: 'TabSeparated' });
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

  private open(): Session {
    if (!this.session) throw new Error(`chdb store at ${this.path} is closed`);
    return this.session;
  }
}
