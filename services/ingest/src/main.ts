// The ingest process: Kafka -> ClickHouse (server or chdb). `pnpm --filter @grokstream/ingest start`
// Settings come from the environment (see settings.ts or --help); SIGINT/SIGTERM stop it cleanly.
import { EventCodec } from '@grokstream/schemas';
import { KafkaBus, standardTopics } from '@grokstream/bus';
import { ChdbStore, ClickHouseStore, type Store } from '@grokstream/store';
import { Ingest } from './ingest.ts';
import { SETTINGS_HELP, SettingsError, readSettings } from './settings.ts';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(`grokstream ingest: projects every event from Kafka into ClickHouse.\n\n${SETTINGS_HELP}`);
  process.exit(0);
}

let settings;
try {
  settings = readSettings(process.env);
} catch (err) {
  if (err instanceof SettingsError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}

const store: Store =
  settings.store.kind === 'clickhouse'
    ? new ClickHouseStore({ url: settings.store.url, database: settings.database })
    : new ChdbStore({ path: settings.store.path, database: settings.database });
const bus = new KafkaBus({ brokers: settings.brokers, clientId: 'grokstream-ingest' });
const where = settings.store.kind === 'clickhouse' ? settings.store.url : settings.store.path;

try {
  await bus.ensureTopics(standardTopics(settings.partitions));
  const producer = await bus.producer();
  const ingest = new Ingest({
    bus,
    store,
    codec: EventCodec.load(),
    deadLetters: producer,
    groupId: settings.groupId,
    onError: (err) => console.error(`ingest: batch failed, will retry: ${(err as Error).message}`),
  });
  await ingest.start();
  console.log(`ingest: ${settings.brokers.join(',')} -> ${settings.store.kind} ${where} database ${settings.database}`);

  let last = '';
  const progress = setInterval(() => {
    const s = ingest.stats;
    const line = `ingest: ${s.events} events, ${s.rows} rows, ${s.deadLetters} dead letters, ${s.failures} failed batches`;
    if (line !== last) console.log(line);
    last = line;
  }, 5000);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`ingest: ${signal}, finishing the batch in flight`);
    clearInterval(progress);
    await ingest.stop();
    await bus.close();
    await store.close();
    const s = ingest.stats;
    console.log(`ingest: stopped after ${s.events} events, ${s.rows} rows, ${s.deadLetters} dead letters`);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
} catch (err) {
  console.error(`ingest: ${(err as Error).message}`);
  await bus.close().catch(() => {});
  await store.close().catch(() => {});
  process.exit(1);
}
