// Store over a ClickHouse server through @clickhouse/client. Inserts stream TabSeparated text
// (not JSON) so NaN and ±Inf arrive exactly; reads use the JSON format with quoted denormals.
import { Readable } from 'node:stream';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import type { Store, StoreRow } from './store.ts';
import type { TableName } from './tables.ts';
import { encodeRows } from './encode-rows.ts';
import { decodeJsonResult, type Row } from './results.ts';
import { migrate } from './migrations.ts';
import { sqlIdent } from './sql.ts';

export interface ClickHouseStoreOptions {
  url: string;
  database?: string;
  username?: string;
  password?: string;
  requestTimeoutMs?: number;
}

const READ_SETTINGS = { output_format_json_quote_denormals: 1 } as const;

export class ClickHouseStore implements Store {
  readonly kind = 'clickhouse' as const;
  readonly database: string;
  private readonly client: ClickHouseClient;

  constructor(private readonly options: ClickHouseStoreOptions) {
    this.database = sqlIdent(options.database ?? 'grokstream');
    this.client = createClient({
      url: options.url,
      username: options.username ?? 'default',
      password: options.password ?? '',
      request_timeout: options.requestTimeoutMs ?? 60_000,
      // No session database: the database may not exist yet, and every statement names it.
      compression: { request: false, response: false },
      // Failures reach the caller as exceptions with the server's message; no second copy on stderr.
      log: { level: ClickHouseLogLevel.OFF },
    });
  }

  async migrate() {
    await this.ping();
    return migrate(this, this.database);
  }

  async insert(table: TableName, rows: StoreRow[]): Promise<void> {
    if (rows.length === 0) return;
    const { columns, tsv } = encodeRows(table, rows);
    await this.client.insert({
      table: `${this.database}.${table}`,
      values: Readable.from([Buffer.from(tsv, 'utf8')], { objectMode: false }),
      format: 'TabSeparated',
      columns: columns as [string, ...string[]],
    });
  }

  async query<T = Row>(sql: string): Promise<T[]> {
    const rs = await this.client.query({ query: sql, format: 'JSON', clickhouse_settings: READ_SETTINGS });
    return decodeJsonResult(await rs.text()) as T[];
  }

  async command(sql: string): Promise<void> {
    await this.client.command({ query: sql });
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async ping(): Promise<void> {
    const res = await this.client.ping();
    if (!res.success) {
      throw new Error(
        `cannot reach ClickHouse at ${this.options.url}: ${String((res as { error?: Error }).error?.message ?? 'no answer')}. ` +
          'Start the local stack with `pnpm stack:up`, or check GROKSTREAM_CLICKHOUSE_URL.',
      );
    }
  }
}
