// The ingest process as a user runs it (grokstream ingest): env settings, Kafka in, ClickHouse out, clean SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec, TOPICS, exampleStepMetrics, type StepMetrics } from '@grokstream/schemas';
import { EventPublisher, KafkaBus, standardTopics } from '@grokstream/bus';
import { ClickHouseStore } from '@grokstream/store';
import { waitUntil } from '../../services/bus/src/wait.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, requireClickHouse, requireKafka } from './services.ts';

const BIN = 'services/cli/bin/grokstream.js';

describe('ingest process', () => {
  const id = randomUUID().replace(/-/g, '').slice(0, 10);
  const database = `ingestproc_${id}`;
  const runId = `ingest-process-${id}`;
  let store: ClickHouseStore;

  beforeAll(async () => {
    await requireKafka();
    await requireClickHouse();
    store = new ClickHouseStore({ url: CLICKHOUSE_URL, database });
  });

  afterAll(async () => {
    await store.command(`DROP DATABASE IF EXISTS ${database}`);
    await store.close();
  });

  it('refuses bad settings with exit code 2 and says what is wrong', () => {
    const res = spawnSync(process.execPath, [BIN, 'ingest'], { env: { ...process.env, GROKSTREAM_STORE: 'mysql' }, encoding: 'utf8', timeout: 60_000 });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/GROKSTREAM_STORE must be clickhouse or chdb, got "mysql"/);
  });

  it('ingests published events and stops cleanly on SIGTERM with exit 130', async () => {
    const child = spawn(process.execPath, [BIN, 'ingest'], {
      env: {
        ...process.env,
        GROKSTREAM_KAFKA_BROKERS: KAFKA_BROKERS.join(','),
        GROKSTREAM_STORE: 'clickhouse',
        // Credentials in the URL are taken out of it and never printed.
        GROKSTREAM_CLICKHOUSE_URL: CLICKHOUSE_URL.replace('://', '://default:@'),
        GROKSTREAM_DATABASE: database,
        GROKSTREAM_INGEST_GROUP: `ingest-process-${id}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitUntil(() => out.includes('ingest: ') && out.includes('-> ClickHouse default@'), 'the ingest process to start', 90_000);
      const bus = new KafkaBus({ brokers: KAFKA_BROKERS, logLevel: 'nothing' });
      await bus.ensureTopics(standardTopics(4));
      const producer = await bus.producer();
      const steps: StepMetrics[] = Array.from({ length: 100 }, (_, i) => exampleStepMetrics({ run_id: runId, step: i, ts: Date.now() }));
      await new EventPublisher(producer, EventCodec.load()).publish(
        TOPICS.events,
        steps.map((value) => ({ name: 'StepMetrics' as const, value })),
      );
      await producer.close();
      await bus.close();
      const rows = async () =>
        (await store.query<{ n: number }>(`SELECT count() AS n FROM ${database}.steps FINAL WHERE run_id = '${runId}'`))[0]!.n;
      await waitUntil(async () => (await rows()) === 100, '100 rows from the process', 60_000);
    } finally {
      child.kill('SIGTERM');
    }
    // Stopped by a signal: 130, like every grokstream command, after a clean stop.
    expect(await exited).toBe(130);
    expect(out).toMatch(/SIGTERM: finishing what is in flight, then stopping/);
    // A new group reads the topic from the beginning: these 100 and whatever other tests left there.
    expect(out).toMatch(/ingest: stopped; ingest: \d+ events, \d+ rows, 0 dead letters/);
    expect(out).not.toMatch(/kafka info/); // the client's chatter is for GROKSTREAM_LOG_LEVEL=debug
  });
});
