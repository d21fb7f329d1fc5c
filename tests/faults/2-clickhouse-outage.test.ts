// Case 2: ClickHouse is SIGKILLed for 30 s while the ingest process is writing a steady stream of
// events into it. Expected: once it is back, every event is stored exactly once (0 lost, 0
// duplicate rows: count() FINAL and without FINAL after OPTIMIZE ... FINAL, against
// uniqExact(run_id, step)), and the ingest process is still running.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { EventCodec, TOPICS, exampleStepMetrics } from '@grokstream/schemas';
import { EventPublisher, standardTopics, type KafkaBus, type Producer } from '@grokstream/bus';
import type { ClickHouseStore } from '@grokstream/store';
import { uniqueId } from './env.ts';
import { ensureStack, outage, sleep } from './stack.ts';
import { ingestReady, killAll, spawnIngest, type Proc } from './procs.ts';
import { clickhouse, kafkaBus, ranges, readTopics, rowCounts, stepGaps, storedSteps, within } from './checks.ts';
import { CaseResult } from './results.ts';

const CASE = 'clickhouse-outage';
const DOWN_MS = 30_000;
const BEFORE_MS = 8_000;
const AFTER_MS = 8_000;
/** 40 events every 200 ms: 200 events/s, about 9,000 over the case. */
const BATCH = 40;
const EVERY_MS = 200;

describe('fault: ClickHouse SIGKILL during ingest', () => {
  const id = uniqueId();
  const database = `faults_ch_${id}`;
  const runId = `faults-ch-${id}`;
  let store: ClickHouseStore;
  let ingest: Proc;
  let bus: KafkaBus;
  let producer: Producer;

  beforeAll(async () => {
    await ensureStack();
    store = clickhouse(database);
    bus = kafkaBus();
    await bus.ensureTopics(standardTopics(4));
    producer = await bus.producer();
    ingest = spawnIngest(CASE, { database, group: `faults-ingest-${id}` });
    await ingestReady(ingest);
  });

  afterAll(async () => {
    await killAll();
    await producer?.close().catch(() => {});
    await bus?.close().catch(() => {});
    await store?.close();
  });

  it('stores every event once after a 30 s ClickHouse outage', async () => {
    const r = new CaseResult('clickhouse-sigkill-30s');
    await r.run(async () => {
      const publisher = new EventPublisher(producer, EventCodec.load());
      let sent = 0;
      let publishing = true;
      let publishError: unknown;
      const publishLoop = (async () => {
        while (publishing) {
          const t0 = Date.now();
          const batch = Array.from({ length: BATCH }, () => {
            sent++;
            return { name: 'StepMetrics' as const, value: exampleStepMetrics({ run_id: runId, step: sent, seq: sent, ts: Date.now() }) };
          });
          try {
            await publisher.publish(TOPICS.events, batch);
          } catch (err) {
            publishError = err;
            sent -= batch.length;
            return;
          }
          await sleep(Math.max(0, EVERY_MS - (Date.now() - t0)));
        }
      })();

      const flowing = await within(60_000, async () => (await storedSteps(store, runId)).length > 0);
      if (flowing === undefined) throw new Error(`nothing of ${runId} reached ClickHouse:\n${ingest.tail()}`);
      await sleep(BEFORE_MS);
      const storedAtKill = (await storedSteps(store, runId)).length;
      let sentAtRestart = 0;
      const o = await outage('clickhouse', DOWN_MS);
      sentAtRestart = sent;
      r.metric('outage', { ...o, stored_at_kill: storedAtKill, sent_at_restart: sentAtRestart });
      // Recovery: everything published until the server came back is stored.
      const caughtUp = await within(120_000, async () => (await storedSteps(store, runId)).length >= sentAtRestart);
      r.set({ recovery_ms: caughtUp ?? null });
      await sleep(AFTER_MS);
      publishing = false;
      await publishLoop;
      r.check('the test publisher kept publishing', publishError === undefined, String(publishError));

      const all = await within(120_000, async () => (await storedSteps(store, runId)).length >= sent);
      r.metric('drained_after_publishing_ms', all ?? null);
      const counts = await rowCounts(store, 'steps', `run_id = '${runId}'`, 'run_id, step');
      r.metric('rows', counts);
      const { gaps, repeats } = stepGaps(await storedSteps(store, runId), sent);
      const dlt = (await readTopics([TOPICS.deadLetter])).filter((d) => d.event?.name === 'DeadLetter' && d.event.value.run_id === runId).length;
      r.set({ events_sent: sent, events_stored: counts.distinct, lost: sent - counts.distinct, duplicate_rows: counts.duplicates, dead_letters: dlt });
      r.check('0 lost', counts.distinct === sent, `sent ${sent}, stored ${counts.distinct}, gaps ${ranges(gaps)}`);
      r.check('0 duplicate rows', counts.duplicates === 0 && repeats.length === 0, counts);
      r.check('FINAL count equals the events sent', counts.final === sent, counts);
      r.check('no dead letters', dlt === 0, `${dlt}`);
      r.check('recovered within 120 s of the restart', caughtUp !== undefined, ingest.tail(1500));
      const retries = (ingest.output.match(/batch failed, will retry/g) ?? []).length;
      r.metric('ingest_failed_batches_logged', retries);
      r.check('ingest still running', ingest.exited === undefined, ingest.exited ? ingest.tail(1500) : undefined);
    });
  }, 300_000);
});
