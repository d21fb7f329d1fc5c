// The embedded pipeline on its own, fed hand-made events: after drain() the store holds every
// event and every detector output, the outcome of each run is what the detector said, and drain()
// says which part lags when it cannot catch up.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventPublisher } from '@grokstream/bus';
import { TOPICS, type AnyEvent } from '@grokstream/schemas';
import { ChdbStore, type Store, type StoreRow, type TableName } from '@grokstream/store';
import { detectorOptions, parseDetectorConfig, replayEvents, type DetectorOutput } from '@grokstream/detector';
import { syntheticRun } from '../../detector/src/testing-runs.ts';
import { EmbeddedPipeline, type PipelineOptions } from './embedded-pipeline.ts';

const dir = mkdtempSync(join(tmpdir(), 'grokstream-cli-pipeline-'));

// Default phases; one policy: stop when the train loss has not improved for 20 steps. The
// synthetic runs' train loss bottoms out when they memorize, so the stop comes 20 steps later.
const detector = detectorOptions(
  parseDetectorConfig({ detector: { name: 'pipeline-spec' }, policies: [{ kind: 'patience', monitor: 'train_loss', patience: 20 }] }, 'embedded-pipeline.spec.ts'),
);

/** Inserts hang while `hold` is set, until release(): a store that stopped answering. */
class HangingStore implements Store {
  readonly kind = 'chdb' as const;
  hold = false;
  inserts = 0;
  private waiting: Array<() => void> = [];
  constructor(private readonly inner: Store) {}
  get database() {
    return this.inner.database;
  }
  migrate() {
    return this.inner.migrate();
  }
  async insert(table: TableName, rows: StoreRow[]) {
    this.inserts++;
    if (this.hold) await new Promise<void>((r) => this.waiting.push(r));
    return this.inner.insert(table, rows);
  }
  release() {
    this.hold = false;
    for (const r of this.waiting.splice(0)) r();
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

describe('EmbeddedPipeline', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function setup(o: Omit<PipelineOptions, 'log'>) {
    const logged: string[] = [];
    const pipeline = new EmbeddedPipeline({ ...o, log: (l) => logged.push(l) });
    await pipeline.start();
    cleanup.push(() => pipeline.stop());
    const producer = await pipeline.bus.producer();
    const publisher = new EventPublisher(producer, pipeline.codec);
    return { pipeline, logged, send: (events: AnyEvent[]) => publisher.publish(TOPICS.events, events) };
  }

  function chdb(database: string): ChdbStore {
    const store = new ChdbStore({ path: dir, database });
    cleanup.push(async () => {
      await store.command(`DROP DATABASE IF EXISTS ${database}`);
      await store.close();
    });
    return store;
  }

  const count = async (store: Store, table: TableName) =>
    (await store.query<{ n: number }>(`SELECT count() AS n FROM ${store.database}.${table} FINAL`))[0]!.n;

  it('after drain(): every event and every detector output is stored, and each run’s outcome is what the detector said, in order', async () => {
    const store = chdb('pipeline_all');
    const outputs: DetectorOutput[] = [];
    const { pipeline, send } = await setup({ detector, store, onOutput: (o) => outputs.push(o) });
    // Two runs, interleaved as two trainers on one bus would send them: one memorizes at 100 and
    // groks from 150; the other memorizes at 60 and never generalizes. Probes and checkpoints too.
    const grokking = syntheticRun({ runId: 'grokker', steps: 400, memorizeBy: 100, grokAt: 150, grokSteps: 60, probeEvery: 10, checkpointEvery: 100, ending: { kind: 'completed' } });
    const stuck = syntheticRun({ runId: 'stuck', steps: 300, memorizeBy: 60, grokAt: null, probeEvery: 25, ending: { kind: 'completed' } });
    const events = Array.from({ length: Math.max(grokking.length, stuck.length) }, (_, i) => [grokking[i], stuck[i]]).flat().filter((e): e is AnyEvent => e !== undefined);
    for (let i = 0; i < events.length; i += 97) await send(events.slice(i, i + 97));
    await pipeline.drain(15_000);

    // The store: one row per event, by table.
    const sent = (name: AnyEvent['name']) => events.filter((e) => e.name === name).length;
    expect({
      runs: await count(store, 'runs'),
      steps: await count(store, 'steps'),
      probes: await count(store, 'probes'),
      checkpoints: await count(store, 'checkpoints'),
      run_ends: await count(store, 'run_ends'),
      dead_letters: await count(store, 'dead_letters'),
    }).toEqual({
      runs: sent('RunStarted'),
      steps: sent('StepMetrics'),
      probes: sent('ProbeSummary'),
      checkpoints: sent('Checkpointed'),
      run_ends: sent('RunFinished'),
      dead_letters: 0,
    });
    expect(sent('StepMetrics')).toBe(700);

    // The outcome: what a replay of the same events says, per run and in order.
    const expected = await replayEvents(events, detector);
    for (const runId of ['grokker', 'stuck']) {
      const mine = expected.filter((x) => x.value.run_id === runId);
      const phases = mine.flatMap((x) => (x.name === 'PhaseChanged' ? [{ phase: x.value.phase, step: x.value.step }] : []));
      const stops = mine.flatMap((x) => (x.name === 'StopRun' ? [{ step: x.value.step, policy: x.value.policy, reason: x.value.reason }] : []));
      expect(stops).toHaveLength(1);
      expect(pipeline.outcome(runId), runId).toEqual({ phases, stop: stops[0] });
      expect(pipeline.phaseOf(runId)).toBe(phases.at(-1)?.phase);

      // The same phases and the same stop in the store, which ingest read off the detector's topics.
      const stored = await store.query<{ phase: string; step: number }>(
        `SELECT phase, step FROM ${store.database}.phases FINAL WHERE run_id = '${runId}' ORDER BY step, seq`,
      );
      expect(stored, runId).toEqual(phases);
      const commands = await store.query<{ step: number; policy: string; reason: string }>(
        `SELECT step, policy, reason FROM ${store.database}.commands FINAL WHERE run_id = '${runId}'`,
      );
      expect(commands, runId).toEqual(stops);
    }
    const grokker = pipeline.outcome('grokker');
    expect(grokker.phases.map((p) => p.phase)).toEqual(expect.arrayContaining(['MEMORIZATION', 'GROKKING']));
    expect(grokker.phases.findIndex((p) => p.phase === 'MEMORIZATION')).toBeLessThan(grokker.phases.findIndex((p) => p.phase === 'GROKKING'));
    expect(grokker.stop).toMatchObject({ policy: 'patience', step: 120 }); // train loss flat from step 100
    expect(pipeline.outcome('stuck').phases.map((p) => p.phase)).not.toContain('GROKKING');
    expect(await count(store, 'phases')).toBe(expected.filter((x) => x.name === 'PhaseChanged').length);
    expect(await count(store, 'commands')).toBe(2);
    // onOutput saw every output once.
    expect(outputs.map((o) => o.value.event_id).sort()).toEqual(expected.map((o) => o.value.event_id).sort());
    // A run it never saw has an empty outcome.
    expect(pipeline.outcome('nobody')).toEqual({ phases: [] });
    expect(pipeline.phaseOf('nobody')).toBeUndefined();
  });

  it('drain() throws naming the part that lags when the store stops answering, and completes once it answers again', async () => {
    const store = new HangingStore(chdb('pipeline_hang'));
    const { pipeline, send } = await setup({ detector, store });
    const run = syntheticRun({ runId: 'hung', steps: 150, memorizeBy: 50, grokAt: null, ending: { kind: 'completed' } });
    store.hold = true;
    await send(run);
    const t0 = Date.now();
    const err = await pipeline.drain(300).then(
      () => new Error('drain() returned while every insert hangs'),
      (e: unknown) => e as Error,
    );
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(err.message).toMatch(/^the embedded pipeline did not catch up in 0\.3 s: detector 0 behind, ingest [1-9]\d* behind$/);
    expect(store.inserts).toBeGreaterThan(0);
    // The detector was not held up by the store: its verdicts are in already.
    expect(pipeline.outcome('hung').stop?.policy).toBe('patience');

    store.release();
    await pipeline.drain(15_000);
    expect(await count(store, 'steps')).toBe(150);
    expect(await count(store, 'commands')).toBe(1);
  });

  it('with no detector and no store, drain() returns at once and there is no outcome', async () => {
    const { pipeline, send } = await setup({});
    await send(syntheticRun({ runId: 'bare', steps: 50, memorizeBy: 10, grokAt: null, ending: { kind: 'completed' } }));
    const t0 = Date.now();
    await pipeline.drain(10);
    expect(Date.now() - t0).toBeLessThan(500);
    expect(pipeline.outcome('bare')).toEqual({ phases: [] });
    expect(pipeline.phaseOf('bare')).toBeUndefined();
  });

  it('with a detector and no store, drain() waits for the detector alone', async () => {
    const { pipeline, send } = await setup({ detector });
    await send(syntheticRun({ runId: 'judged', steps: 200, memorizeBy: 40, grokAt: null, ending: { kind: 'completed' } }));
    await pipeline.drain(10_000);
    expect(pipeline.outcome('judged').stop).toMatchObject({ policy: 'patience', step: 60 });
    expect(pipeline.outcome('judged').phases.map((p) => p.phase)).toContain('MEMORIZATION');
  });
});
