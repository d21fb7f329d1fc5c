// Acceptance of the foundation: 10,000 StepMetrics through the real Kafka broker into both
// stores, exactly 10,000 rows in each; a replay of the same offsets still leaves 10,000.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec, exampleStepMetrics, type StepMetrics } from '@grokstream/schemas';
import { EventPublisher, KafkaBus, type Producer } from '@grokstream/bus';
import { ChdbStore, ClickHouseStore, type Store } from '@grokstream/store';
import { Ingest } from '@grokstream/ingest';
import { waitUntil } from '../../services/bus/src/wait.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, requireClickHouse, requireKafka } from './services.ts';

const RUNS = 10;
const STEPS = 1_000;
const TOTAL = RUNS * STEPS;

function stepEvent(run: number, step: number): StepMetrics {
  return exampleStepMetrics({
    run_id: `accept-run-${run}`,
    step,
    train_acc: Math.min(1, step / 500),
    test_loss: step % 10 === 0 ? 2 / (step + 1) : null,
    test_acc: step % 10 === 0 ? Math.min(1, step / 900) : null,
    weight_norm: 10 + step / 1000,
    layer_norms: [5, 6, 7],
    grad_norm_sq: step === 13 ? NaN : 0.5,
    update_norm: step === 14 ? Infinity : 0.01,
  });
}

describe('foundation: Kafka -> ingest -> ClickHouse server and chdb', () => {
  const id = randomUUID().replace(/-/g, '').slice(0, 10);
  const topic = `accept.events.${id}`;
  const deadLetterTopic = `accept.deadletter.${id}`;
  const database = `accept_${id}`;
  const codec = EventCodec.load();
  let bus: KafkaBus;
  let producer: Producer;
  let stores: Store[];

  beforeAll(async () => {
    await requireKafka();
    await requireClickHouse();
    bus = new KafkaBus({ brokers: KAFKA_BROKERS, logLevel: 'nothing' });
    await bus.ensureTopics([
      { topic, partitions: 4 },
      { topic: deadLetterTopic, partitions: 1 },
    ]);
    producer = await bus.producer();
    stores = [
      new ClickHouseStore({ url: CLICKHOUSE_URL, database }),
      new ChdbStore({ path: mkdtempSync(join(tmpdir(), 'grokstream-accept-')), database }),
    ];
  });

  afterAll(async () => {
    for (const s of stores ?? []) {
      await s.command(`DROP DATABASE IF EXISTS ${database}`);
      await s.close();
    }
    await producer?.close();
    await bus?.close();
  });

  const count = async (store: Store, table: string) =>
    Number((await store.query<{ n: number }>(`SELECT count() AS n FROM ${database}.${table} FINAL`))[0]!.n);

  async function ingestAll(groupSuffix: string): Promise<Ingest[]> {
    const ingests = stores.map(
      (store) =>
        new Ingest({
          bus,
          store,
          codec,
          deadLetters: producer,
          deadLetterTopic,
          topics: [topic, deadLetterTopic],
          groupId: `accept-${store.kind}-${id}-${groupSuffix}`,
          fromBeginning: true,
        }),
    );
    for (const i of ingests) await i.start();
    return ingests;
  }

  it('lands 10,000 StepMetrics exactly once in each store, and again after a replay', async () => {
    const publisher = new EventPublisher(producer, codec);
    for (let step = 0; step < STEPS; step += 100) {
      const events = [];
      for (let run = 0; run < RUNS; run++) {
        for (let s = step; s < step + 100; s++) events.push({ name: 'StepMetrics' as const, value: stepEvent(run, s) });
      }
      await publisher.publish(topic, events);
    }
    // One message that is not an event: it must reach the dead letters, not stop the consumers.
    await producer.send(topic, [{ key: 'accept-run-0', value: Buffer.from('{"not":"avro"}') }]);
    const ends = await bus.endOffsets(topic);
    expect(ends.reduce((n, e) => n + Number(e.offset), 0)).toBe(TOTAL + 1);

    const first = await ingestAll('first');
    for (const store of stores) {
      await waitUntil(async () => (await count(store, 'steps')) >= TOTAL, `${TOTAL} rows in ${store.kind}`, 120_000);
      await waitUntil(async () => (await count(store, 'dead_letters')) >= 1, `the dead letter in ${store.kind}`, 60_000);
    }
    for (const i of first) await i.stop();
    for (const store of stores) {
      expect(await count(store, 'steps')).toBe(TOTAL);
      const [agg] = await store.query<{ runs: number; nan: number; inf: number }>(
        `SELECT uniqExact(run_id) AS runs, countIf(isNaN(grad_norm_sq)) AS nan, countIf(isInfinite(update_norm)) AS inf FROM ${database}.steps FINAL`,
      );
      expect(agg).toEqual({ runs: RUNS, nan: RUNS, inf: RUNS });
      const letters = await store.query<{ error_kind: string; hex: string }>(
        `SELECT error_kind, hex(payload) AS hex FROM ${database}.dead_letters FINAL`,
      );
      // Each store's ingest group saw the bad message once; both dead letters are in the topic,
      // and each store ingests both (they are the same source offset from two consumers).
      expect(letters.every((l) => l.error_kind === 'bad-magic')).toBe(true);
      expect(new Set(letters.map((l) => l.hex))).toEqual(new Set([Buffer.from('{"not":"avro"}').toString('hex').toUpperCase()]));
    }

    // Replay: new consumer groups read the same offsets from the beginning and write everything again.
    const replay = await ingestAll('replay');
    for (const i of replay) await waitUntil(() => i.stats.events >= TOTAL, 'the replay to deliver every event', 120_000);
    for (const i of replay) await i.stop();
    for (const [k, store] of stores.entries()) {
      // The replay really wrote every row a second time; the table key collapsed them.
      expect(replay[k]!.stats.rows).toBeGreaterThanOrEqual(TOTAL);
      expect(await count(store, 'steps')).toBe(TOTAL);
    }
  });
});
