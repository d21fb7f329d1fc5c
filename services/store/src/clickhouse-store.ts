// Store over a ClickHouse server through @clickhouse/client. Inserts send RowBinary (bit-exact
// floats, see row-binary.ts); reads use the JSON format with quoted denormals, whose numbers
// 18.16 writes as the shortest text that reads back as the same double.
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import type { Store, StoreRow } from './store.ts';
import type { TableName } from './tables.ts';
import { encodeRows } from './encode-rows.ts';
import { decodeJsonResult, type Row } from './results.ts';
import { migrate } from './migrations.ts';
import { sqlIdent } from './sql.ts';
import { redactError, redactUrl } from './redact.ts';

export interface ClickHouseStoreOptions {
  /** http(s)://host:port; may carry user:password@, which username/password override. */
  url: string;
  database?: string;
  username?: string;
  password?: string;
  requestTimeoutMs?: number;
  /**
   * Every statement runs with the server's `readonly=2` setting: reads (and their settings) work,
   * writes and DDL are refused by ClickHouse itself (`grokstream query` without --write).
   */
  readonly?: boolean;
}

const READ_SETTINGS = { output_format_json_quote_denormals: 1 } as const;

/** Splits user:password@ off a URL, so the client gets them as options and messages never see them. */
function splitCredentials(url: string): { url: string; username?: string; password?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`not a ClickHouse URL: ${redactUrl(url)} (expected http[s]://[user:password@]host:port)`);
  }
  const username = parsed.username === '' ? undefined : decodeURIComponent(parsed.username);
  const password = parsed.password === '' ? undefined : decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), username, password };
}

export class ClickHouseStore implements Store {
  readonly kind = 'clickhouse' as const;
  readonly database: string;
  /** The server's URL as safe to print: any password replaced by ***. */
  readonly url: string;
  private readonly client: ClickHouseClient;
  /** Strings that must not appear in any error this store throws. */
  private readonly secrets: string[];

  constructor(private readonly options: ClickHouseStoreOptions) {
    this.database = sqlIdent(options.database ?? 'grokstream');
    this.url = redactUrl(options.url);
    const fromUrl = splitCredentials(options.url);
    const password = options.password ?? fromUrl.password ?? '';
    this.secrets = [password, fromUrl.password ?? ''].filter((s) => s !== '');
    this.client = createClient({
      url: fromUrl.url,
      username: options.username ?? fromUrl.username ?? 'default',
      password,
      request_timeout: options.requestTimeoutMs ?? 60_000,
      // No session database: the database may not exist yet, and every statement names it.
      compression: { request: false, response: false },
      // Failures reach the caller as exceptions with the server's message; no second copy on stderr.
      log: { level: ClickHouseLogLevel.OFF },
    });
  }

  /** Settings sent with every statement. */
  private get settings() {
    return this.options.readonly ? { readonly: '2' as const } : {};
  }

  async migrate() {
    await this.ping();
    return migrate(this, this.database);
  }

  async insert(table: TableName, rows: StoreRow[]): Promise<void> {
    if (rows.length === 0) return;
    const { columns, body } = encodeRows(table, rows);
    await this.guard(async () => {
      // client.insert() streams text formats only, so the INSERT is spelled out and the body sent as is.
      const res = await this.client.exec({
        query: `INSERT INTO ${this.database}.${table} (${columns.join(', ')}) FORMAT RowBinary`,
        values: Readable.from([body], { objectMode: false }),
        clickhouse_settings: this.settings,
      });
      // An INSERT answers with an empty body; reading it to the end frees the socket for reuse.
      res.stream.resume();
      await finished(res.stream);
    });
  }

  async query<T = Row>(sql: string): Promise<T[]> {
    return this.guard(async () => {
      const rs = await this.client.query({ query: sql, format: 'JSON', clickhouse_settings: { ...READ_SETTINGS, ...this.settings } });
      return decodeJsonResult(await rs.text()) as T[];
    });
  }

  async command(sql: string): Promise<void> {
    await this.guard(() => this.client.command({ query: sql, clickhouse_settings: this.settings }));
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  private async ping(): Promise<void> {
    const res = await this.client.ping();
    if (!res.success) {
      const why = redactError((res as { error?: Error }).error, this.secrets)?.message ?? 'no answer';
      throw new Error(
        `cannot reach ClickHouse at ${this.url}: ${why}. ` +
          'Start the local stack with `pnpm stack:up`, or check GROKSTREAM_CLICKHOUSE_URL.',
      );
    }
  }

  /** Runs a client call; whatever it throws leaves with passwords masked. */
  private async guard<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw redactError(err, this.secrets);
    }
  }
}
