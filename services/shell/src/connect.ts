// From settings to clients: the Kafka bus and the store, configured the same way in every process.
import { KafkaBus } from '@grokstream/bus';
import { ChdbStore, ClickHouseStore, namedQuerySql, pendingMigrations, type Row, type Store } from '@grokstream/store';
import type { Logger, LogLevel } from './logger.ts';
import type { KafkaSettings, Settings, StoreSettings } from './settings.ts';

/**
 * The Kafka client's lines through our logger, one readable line each, redacted. Its errors are
 * mostly retries our own code reports better (the trainer's outage messages, the errors we
 * throw), so they come as warnings, its info lines (group joins, starts, stops) at debug, and a
 * line repeated within `quietMs` is written once, with a
 * count of what was held back: a broker outage is a few lines, not hundreds.
 */
export function kafkaClientLog(log: Logger, quietMs = 30_000, now: () => number = Date.now): (level: LogLevel, line: string) => void {
  const seen = new Map<string, { at: number; held: number }>();
  return (level, line) => {
    const at = now();
    const key = line.replace(/\d+/g, '#'); // retry counters and times differ between repeats
    const last = seen.get(key);
    if (last && at - last.at < quietMs) {
      last.held++;
      return;
    }
    if (seen.size > 1000) seen.clear();
    seen.set(key, { at, held: 0 });
    const held = last?.held ? ` (${last.held} more like it held back)` : '';
    // Our producers bound their retries on purpose (the trainer's emitter retries whole batches
    // and counts the outage); kafkajs warns about that at every connect.
    const known = /Limiting retries for the idempotent producer/.test(line);
    log.log(known || level === 'info' ? 'debug' : level === 'error' ? 'warn' : level, `${line}${held}`);
  };
}

export function kafkaBus(kafka: KafkaSettings, clientId: string, log: Logger): KafkaBus {
  return new KafkaBus({
    brokers: kafka.brokers,
    clientId,
    logLevel: log.level,
    log: kafkaClientLog(log),
    ...(kafka.ssl ? { ssl: kafka.ssl } : {}),
    ...(kafka.sasl
      ? { sasl: { mechanism: kafka.sasl.mechanism, username: kafka.sasl.username, password: kafka.sasl.password.reveal() } as never }
      : {}),
  });
}

/** `readonly`: the engine refuses writes (its readonly=2 setting), for ad hoc queries. */
export function openStore(settings: Pick<Settings, 'store' | 'database'>, o: { readonly?: boolean } = {}): Store {
  const s = settings.store;
  return s.kind === 'clickhouse'
    ? new ClickHouseStore({ url: s.url, username: s.username, password: s.password?.reveal() ?? '', database: settings.database, readonly: o.readonly })
    : new ChdbStore({ path: s.path, database: settings.database, readonly: o.readonly });
}

/**
 * The store for a read-only command (report, ui, query), at the schema this grokstream reads. A
 * database that an older grokstream wrote lacks the newer migrations: the embedded one (this
 * user's own files) is migrated first, with a line saying so; a server's is left to its writer,
 * and the error says how to migrate it (`grokstream ingest` migrates when it starts).
 */
export async function openReadableStore(settings: Pick<Settings, 'store' | 'database'>, o: { log?: (line: string) => void } = {}): Promise<Store> {
  let store = openStore(settings, { readonly: true });
  try {
    // No database yet (nothing has been ingested): left as it is, and a read says so.
    const pending = await pendingMigrations(store, settings.database);
    if (pending === undefined || pending.length === 0) return store;
    await store.close();
    const what = pending.map((m) => `${m.version} (${m.name})`).join(', ');
    if (settings.store.kind === 'clickhouse') {
      throw new Error(
        `database ${settings.database} lacks schema migration${pending.length === 1 ? '' : 's'} ${what}: it was written by an older grokstream. ` +
          'Start `grokstream ingest` against it once (it migrates the database when it starts), then run this again',
      );
    }
    const writer = openStore(settings);
    try {
      await writer.migrate();
    } finally {
      await writer.close();
    }
    o.log?.(`migrated the embedded database ${settings.database} (${describeStore(settings.store)}): ${what}`);
    store = openStore(settings, { readonly: true });
    return store;
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}

const RETURNS_ROWS = /^\s*(\(|SELECT\b|WITH\b|SHOW\b|DESCRIBE\b|DESC\b|EXISTS\b|EXPLAIN\b)/i;

export type QueryInput = { sql: string } | { named: string; params?: Record<string, string | undefined> };

/**
 * An ad hoc query against the configured store, read-only unless `write` (the library side of
 * `grokstream query`): SQL as given, or a named query (NAMED_QUERIES) with its parameters.
 */
export async function queryStore(settings: Pick<Settings, 'store' | 'database'>, input: QueryInput, o: { write?: boolean; log?: (line: string) => void } = {}): Promise<Row[]> {
  const store = o.write ? openStore(settings) : await openReadableStore(settings, o.log ? { log: o.log } : {});
  try {
    const sql = 'sql' in input ? input.sql : namedQuerySql(input.named, settings.database, input.params ?? {});
    // Statements that return rows go through query(); the rest through command() (the client
    // appends FORMAT to a query). This picks the call, not the permission: the engine decides that.
    if (RETURNS_ROWS.test(sql)) return await store.query(sql);
    await store.command(sql);
    return [];
  } finally {
    await store.close();
  }
}

/** Where the store is, for messages: never with a password. */
export function describeStore(s: StoreSettings): string {
  return s.kind === 'clickhouse' ? `ClickHouse ${s.username}@${s.url}` : `chdb ${s.path}`;
}
