// From settings to clients: the Kafka bus and the store, configured the same way in every process.
import { KafkaBus } from '@grokstream/bus';
import { ChdbStore, ClickHouseStore, type Store } from '@grokstream/store';
import type { Logger } from './logger.ts';
import type { KafkaSettings, Settings, StoreSettings } from './settings.ts';

export function kafkaBus(kafka: KafkaSettings, clientId: string, log: Logger): KafkaBus {
  return new KafkaBus({
    brokers: kafka.brokers,
    clientId,
    logLevel: log.level,
    // The client's own lines come through our logger: leveled, one readable line each, redacted.
    log: (level, line) => log.log(level, line),
    ...(kafka.ssl ? { ssl: kafka.ssl } : {}),
    ...(kafka.sasl
      ? { sasl: { mechanism: kafka.sasl.mechanism, username: kafka.sasl.username, password: kafka.sasl.password.reveal() } as never }
      : {}),
  });
}

export function openStore(settings: Pick<Settings, 'store' | 'database'>): Store {
  const s = settings.store;
  return s.kind === 'clickhouse'
    ? new ClickHouseStore({ url: s.url, username: s.username, password: s.password?.reveal() ?? '', database: settings.database })
    : new ChdbStore({ path: s.path, database: settings.database });
}

/** Where the store is, for messages: never with a password. */
export function describeStore(s: StoreSettings): string {
  return s.kind === 'clickhouse' ? `ClickHouse ${s.username}@${s.url}` : `chdb ${s.path}`;
}
