// The ingest service end to end on the embedded pieces: in-process bus and chdb.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventCodec, TOPICS, exampleStepMetrics, type StepMetrics } from '@grokstream/schemas';
import { EventPublisher, MemoryBus, standardTopics } from '@grokstream/bus';
import { ChdbStore, type Store, type StoreRow, type TableName } from '@grokstream/store';
import { waitUntil } from '../../bus/src/wait.ts';
import { Ingest } from './ingest.ts';

const codec = EventCodec.load();
const dir = mkdtempSync(join(tmpdir(), 'grokstream-ingest-'));

const step = (run: string, i: number): StepMetrics =>
  exampleStepMetrics({ run_id: run, step: i, event_id: `${run}-${i}`, train_loss: i === 3 ? NaN : 1 / (i + 1) });

/** Fails the first `failures` inserts, like a server that is briefly away. */
class FlakyStore implements Store {
  readonly kind = 'chdb' as const;
  constructor(
    private readonly inner: Store,
    private failures: number,
  ) {}
  get database() {
    return this.inner.database;
  }
  migrate() {
    return this.inner.migrate();
  }
  async insert(table: TableName, rows: StoreRow[]) {
    if (this.failures-- > 0) throw new Error('connection refused');
    return this.inner.insert(table, rows);
  }
  query<T>(sql: string) {
    return this.inner.query<T>(sql);
  }
  command(sql: string) {
    return this.inner.command(sql);
  }
  close() {
    return this.inner.close();
  }
}

describe('Ingest', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function setup(database: string, failures = 0) {
    const bus = new MemoryBus();
    await bus.ensureTopics(standardTopics(3));
    const producer = await bus.producer();
    const chdb = new ChdbStore({ path: dir, database });
    const store = failures > 0 ? new FlakyStore(chdb, failures) : chdb;
    const errors: unknown[] = [];
    const ingest = new Ingest({ bus, store, codec, deadLetters: producer, onError: (e) => errors.push(e) });
    await ingest.start();
    cleanup.push(async () => {
      await ingest.stop();
      await chdb.command(`DROP DATABASE IF EXISTS ${database}`);
      await chdb.close();
    });
    return { bus, producer, store, ingest, errors, publisher: new EventPublisher(producer, codec) };
  }

  const count = async (store: Store, table: string) =>
    (await store.query<{ n: number }>(`SELECT count() AS n FROM ${store.database}.${table} FINAL`))[0]!.n;

  it('projects events into their tables and dead-letters what it cannot decode, carrying on', async () => {
    const { producer, store, ingest, publisher } = await setup('ingest_dlq');
    await publisher.publish(TOPICS.events, [0, 1, 2].map((i) => ({ name: 'StepMetrics' as const, value: step('r1', i) })));
    await producer.send(TOPICS.events, [{ key: 'r1', value: Buffer.from([0xc3, 0x01, 1, 2, 3]) }]);
    await publisher.publish(TOPICS.events, [3, 4].map((i) => ({ name: 'StepMetrics' as const, value: step('r1', i) })));
    await waitUntil(async () => (await count(store, 'steps')) === 5 && (await count(store, 'dead_letters')) === 1, 'rows');
    const [letter] = await store.query<{ run_id: string; error_kind: string; hex: string; source_topic: string }>(
      `SELECT run_id, error_kind, hex(payload) AS hex, source_topic FROM ${store.database}.dead_letters FINAL`,
    );
    expect(letter).toEqual({ run_id: 'r1', error_kind: 'truncated', hex: 'C301010203', source_topic: TOPICS.events });
    expect(ingest.stats.deadLetters).toBe(1);
    const losses = await store.query<{ train_loss: number }>(`SELECT train_loss FROM ${store.database}.steps FINAL ORDER BY step`);
    expect(losses.map((r) => r.train_loss)).toEqual([1, 1 / 2, 1 / 3, NaN, 1 / 5]);
  });

  it('retries a batch the store refused, and the retry leaves one copy', async () => {
    const { store, ingest, errors, publisher } = await setup('ingest_retry', 2);
    await publisher.publish(TOPICS.events, Array.from({ length: 50 }, (_, i) => ({ name: 'StepMetrics' as const, value: step('r2', i) })));
    await waitUntil(async () => (await count(store, 'steps')) === 50, '50 rows');
    expect(errors.map(String)).toEqual(['Error: connection refused', 'Error: connection refused']);
    expect(ingest.stats.failures).toBe(2);
    expect(await count(store, 'steps')).toBe(50);
  });
});
