// Settings of the ingest process, read once from the environment and validated at the edge.
import { parseBrokers } from '@grokstream/bus';

export interface IngestSettings {
  brokers: string[];
  store: { kind: 'clickhouse'; url: string } | { kind: 'chdb'; path: string };
  database: string;
  partitions: number;
  groupId: string | undefined;
}

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

export const SETTINGS_HELP = `Environment:
  GROKSTREAM_KAFKA_BROKERS    host:port[,host:port]   (default 127.0.0.1:19092)
  GROKSTREAM_STORE            clickhouse | chdb       (default clickhouse)
  GROKSTREAM_CLICKHOUSE_URL   server URL              (default http://127.0.0.1:18123)
  GROKSTREAM_CHDB_PATH        chdb data directory     (default .grokstream/chdb)
  GROKSTREAM_DATABASE         database name           (default grokstream)
  GROKSTREAM_PARTITIONS       partitions of new topics (default 4)
  GROKSTREAM_INGEST_GROUP     consumer group          (default grokstream-ingest-<store>-<database>)`;

export function readSettings(env: Record<string, string | undefined>): IngestSettings {
  const problems: string[] = [];
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      problems.push((err as Error).message);
      return undefined;
    }
  };
  const brokers = attempt(() => parseBrokers(env.GROKSTREAM_KAFKA_BROKERS ?? '127.0.0.1:19092'));
  const kind = env.GROKSTREAM_STORE ?? 'clickhouse';
  let store: IngestSettings['store'] | undefined;
  if (kind === 'clickhouse') {
    const url = env.GROKSTREAM_CLICKHOUSE_URL ?? 'http://127.0.0.1:18123';
    if (!/^https?:\/\/[^\s/]+/.test(url)) problems.push(`GROKSTREAM_CLICKHOUSE_URL must be an http(s) URL, got "${url}"`);
    else store = { kind, url };
  } else if (kind === 'chdb') {
    store = { kind, path: env.GROKSTREAM_CHDB_PATH ?? '.grokstream/chdb' };
  } else {
    problems.push(`GROKSTREAM_STORE must be clickhouse or chdb, got "${kind}"`);
  }
  const database = env.GROKSTREAM_DATABASE ?? 'grokstream';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) {
    problems.push(`GROKSTREAM_DATABASE must be a plain identifier (letters, digits, _), got "${database}"`);
  }
  const partitionsText = env.GROKSTREAM_PARTITIONS ?? '4';
  const partitions = Number(partitionsText);
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024) {
    problems.push(`GROKSTREAM_PARTITIONS must be a whole number from 1 to 1024, got "${partitionsText}"`);
  }
  if (problems.length > 0) throw new SettingsError(`invalid settings:\n  - ${problems.join('\n  - ')}\n\n${SETTINGS_HELP}`);
  return { brokers: brokers!, store: store!, database, partitions, groupId: env.GROKSTREAM_INGEST_GROUP || undefined };
}
