// grokstream sweep CONFIG AXIS... : a grid of runs of one config (services/sweep), embedded or on
// Kafka. Every run carries the sweep's id (run tag `sweep`), its point (`point`) and the hash of
// its resolved config (`config_hash`); a point whose hash already has a finished run in the store
// is skipped unless --rerun selects it. One progress display covers the sweep; at the end a table
// has a row per point, and the report the sweep's panels.
import { mkdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { CONFIG_HASH_TAG, EventCodec, GENERALIZED_TEST_ACC, MEMORIZED_TRAIN_ACC, POINT_TAG, SWEEP_TAG, SWEPT_TAG, TOPICS, type AnyEvent, type StepMetrics } from '@grokstream/schemas';
import { EventPublisher, standardTopics } from '@grokstream/bus';
import { RuntimeFailure, UsageError, kafkaBus, describeStore, Interrupted } from '@grokstream/shell';
import { configJson, loadConfig, newRunId, runTraining, type RunConfig } from '@grokstream/trainer';
import { sqlIdent, sqlString, type Store } from '@grokstream/store';
import { writeReport } from '@grokstream/report';
import {
  configHash,
  parseRerun,
  pointRunId,
  stepsSaved,
  summaryTable,
  sweepAxes,
  sweepId,
  sweepPoints,
  SweepSpecError,
  type PointResult,
  type SweepPoint,
} from '@grokstream/sweep';
import { kafkaSettings, type CommandContext } from './context.ts';
import { EmbeddedPipeline } from './embedded-pipeline.ts';
import { loadDetector, openCommandStore, storeFlagSettings } from './embedded-parts.ts';
import { SweepProgress } from './sweep-progress.ts';
import { TrainerPool } from './trainer-pool.ts';
import { positiveInt, shortPath } from './run-command.ts';

interface PlannedPoint {
  point: SweepPoint;
  cfg: RunConfig;
  hash: string;
  /** A finished run of the same config, found in the store. */
  finished: string | null;
  run: boolean;
}

/** Finished runs (completed or stopped early) by config hash, from the store's runs and run_summary. */
async function finishedRuns(store: Store, database: string): Promise<Map<string, string>> {
  const db = sqlIdent(database);
  const rows = await store.query<{ run_id: string; hash: string; ended: string }>(
    `SELECT r.run_id AS run_id, r.hash AS hash, s.ended AS ended FROM ` +
      `(SELECT run_id, tag_values[indexOf(tag_keys, '${CONFIG_HASH_TAG}')] AS hash FROM ${db}.runs FINAL WHERE has(tag_keys, '${CONFIG_HASH_TAG}')) AS r ` +
      `ANY INNER JOIN (SELECT run_id, ended FROM ${db}.run_summary) AS s USING run_id`,
  );
  const out = new Map<string, string>();
  for (const r of rows) if (r.ended === 'completed' || r.ended === 'early_stopped') out.set(r.hash, r.run_id);
  return out;
}

/** A point's row of the summary, from the store: the trainer's milestones off its step metrics. */
async function pointResult(store: Store, database: string, p: PlannedPoint, runId: string, status: PointResult['status']): Promise<PointResult> {
  const db = sqlIdent(database);
  const id = sqlString(runId);
  const [m] = await store.query<{ n: number; first_step: number }>(
    `SELECT countIf(train_acc >= ${MEMORIZED_TRAIN_ACC}) AS n, minIf(step, train_acc >= ${MEMORIZED_TRAIN_ACC}) AS first_step FROM ${db}.steps FINAL WHERE run_id = ${id}`,
  );
  const memorized = m && Number(m.n) > 0 ? Number(m.first_step) : null;
  let grokked: number | null = null;
  if (memorized !== null) {
    const [g] = await store.query<{ n: number; first_step: number }>(
      `SELECT countIf(test_acc >= ${GENERALIZED_TEST_ACC}) AS n, minIf(step, test_acc >= ${GENERALIZED_TEST_ACC}) AS first_step FROM ${db}.steps FINAL WHERE run_id = ${id} AND step >= ${memorized}`,
    );
    grokked = g && Number(g.n) > 0 ? Number(g.first_step) : null;
  }
  const [s] = await store.query<{ final_train_acc: number; final_test_acc: number; stop_policy: string; last_step: number }>(
    `SELECT final_train_acc, final_test_acc, stop_policy, last_step FROM ${db}.run_summary WHERE run_id = ${id}`,
  );
  const [rate] = await store.query<{ sps: number }>(
    `SELECT summary_values[indexOf(summary_keys, 'steps_per_second')] AS sps FROM ${db}.run_ends FINAL WHERE run_id = ${id} AND has(summary_keys, 'steps_per_second')`,
  );
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    point: p.point,
    runId,
    status,
    memorizedStep: memorized,
    grokStep: grokked,
    finalTrainAcc: num(s?.final_train_acc),
    finalTestAcc: num(s?.final_test_acc),
    stopPolicy: s?.stop_policy ? s.stop_policy : null,
    lastStep: num(s?.last_step),
    plannedSteps: p.cfg.run.steps,
    stepsPerSecond: num(rate?.sps),
  };
}

export async function sweep(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    allowNegative: true,
    options: {
      zip: { type: 'string', multiple: true },
      seeds: { type: 'string' },
      workers: { type: 'string' },
      rerun: { type: 'string', multiple: true },
      sweep: { type: 'string' },
      kafka: { type: 'string' },
      clickhouse: { type: 'string' },
      detector: { type: 'string' },
      detect: { type: 'boolean', default: true },
      report: { type: 'boolean', default: true },
      'dry-run': { type: 'boolean', default: false },
      wait: { type: 'boolean', default: true },
      'checkpoint-dir': { type: 'string' },
      quiet: { type: 'boolean' },
    },
  });
  const [file, ...axes] = positionals;
  if (!file) throw new UsageError('sweep needs a config file and axes, e.g. grokstream sweep examples/modular-addition-grokking.yaml task.train_fraction=0.3,0.5,0.7');
  const workers = positiveInt('--workers', values.workers, 1);
  const grid = { axes, zip: (values.zip ?? []).map((z) => z.split(',').map((k) => k.trim())), ...(values.seeds !== undefined ? { seeds: positiveInt('--seeds', values.seeds, 1) } : {}) };
  let points: SweepPoint[];
  let keys: string[];
  let rerun: ((p: SweepPoint) => boolean) | null;
  try {
    points = sweepPoints(grid);
    const allAxes = sweepAxes(grid);
    rerun = parseRerun(values.rerun ?? [], allAxes.flatMap((a) => a.keys));
    // The keys the points differ in (an axis of one value sets it everywhere: not a column).
    const varied = allAxes.filter((a) => a.values.length > 1);
    keys = (varied.length ? varied : allAxes).flatMap((a) => a.keys);
  } catch (err) {
    if (err instanceof SweepSpecError) throw new UsageError(err.message);
    throw err;
  }
  const base = loadConfig(file); // ConfigError: exit 2 with every problem listed
  const id = values.sweep ?? sweepId(base.run.name || basename(file, extname(file)), configHash(base), grid);
  // Every point's config, resolved and checked before anything trains.
  const planned: PlannedPoint[] = points.map((point) => {
    const cfg = loadConfig(file, point.overrides);
    const hash = configHash(cfg);
    // Each varied key's value as a tag of its own: the dashboards and the report plot against it.
    const swept = Object.fromEntries(keys.map((key) => [`${SWEPT_TAG}${key}`, point.values[key]!]));
    cfg.run.tags = { ...cfg.run.tags, ...swept, [SWEEP_TAG]: id, [POINT_TAG]: String(point.index), [CONFIG_HASH_TAG]: hash };
    return { point, cfg, hash, finished: null, run: true };
  });
  const hashes = new Map<string, number>();
  for (const p of planned) {
    const twin = hashes.get(p.hash);
    if (twin !== undefined) throw new UsageError(`points ${twin} and ${p.point.index} resolve to the same config (${p.point.overrides.join(' ')}): a swept key does not change the run`);
    hashes.set(p.hash, p.point.index);
  }

  const kafka = kafkaSettings(ctx, values.kafka);
  const settings = ctx.settings();
  const storeSettings = storeFlagSettings(settings, values.clickhouse);
  if (kafka.fromEnvironment && workers > 1) throw new UsageError('--workers runs trainer processes here; on Kafka, start `grokstream worker` processes instead (they take the points from the sweep topic)');
  // The store is where finished points are found (and, embedded, where the runs go).
  const storeWanted = !kafka.fromEnvironment || values.clickhouse !== undefined || storeSettings.kind === 'clickhouse';
  const store: Store | undefined = storeWanted ? await openCommandStore(storeSettings, settings.database) : undefined;
  let pipeline: EmbeddedPipeline | undefined;
  let pool: TrainerPool | undefined;
  try {
    const finished = store ? await finishedRuns(store, settings.database) : new Map<string, string>();
    for (const p of planned) {
      p.finished = finished.get(p.hash) ?? null;
      p.run = p.finished === null || (rerun !== null && rerun(p.point));
    }
    const todo = planned.filter((p) => p.run);
    const skipped = planned.length - todo.length;
    console.error(
      `grokstream sweep ${file}: sweep ${id}, ${planned.length} point${planned.length === 1 ? '' : 's'} over ${keys.join(', ')}` +
        `; ${todo.length} to run${skipped ? `, ${skipped} already finished (skipped; --rerun selects points to run again)` : ''}` +
        (store ? `; store ${describeStore(storeSettings)}` : kafka.fromEnvironment ? '; no store to look for finished points in (set GROKSTREAM_CLICKHOUSE_URL)' : ''),
    );
    if (values['dry-run']) {
      for (const p of planned) console.log(`  ${String(p.point.index).padStart(3)}  ${p.point.overrides.join(' ')}  ${p.run ? (p.finished ? `run again (finished as ${p.finished})` : 'run') : `skip (finished as ${p.finished})`}`);
      return 0;
    }

    if (kafka.fromEnvironment) return await onKafka({ ctx, id, planned, todo, keys, store, database: settings.database, partitions: settings.partitions, kafka, wait: values.wait ?? true, checkpointDir: values['checkpoint-dir'], report: values.report ?? true, dataDir: settings.dataDir });
    const detector = values.detect ? loadDetector(values.detector) : undefined;
    pipeline = new EmbeddedPipeline({ detector, store, log: (l) => ctx.log.info(l) });
    await pipeline.start();
    const progress = new SweepProgress(process.stderr, { id, total: planned.length, skipped, quiet: values.quiet ?? false });
    const codec = EventCodec.load();
    const runIds = new Map<number, string>();
    let failures = 0;
    // --workers N: the points train in N trainer processes on this process's bus (trainer-pool.ts).
    const processes = Math.min(workers, todo.length);
    pool = processes > 1 ? new TrainerPool({ size: processes, bus: pipeline.bus, log: (l) => progress.log(l) }) : undefined;
    if (pool) {
      console.error(`grokstream sweep: starting ${processes} trainer processes (--workers)`);
      await pool.start();
    }
    const trainingFrom = Date.now();
    const onInterrupt = () => pool?.interrupt();
    ctx.interruption.signal.addEventListener('abort', onInterrupt, { once: true });
    const trainPoint = async (p: PlannedPoint): Promise<void> => {
      if (ctx.interruption.signal.aborted) return;
      const runId = newRunId(p.cfg.run.name);
      runIds.set(p.point.index, runId);
      progress.start(p.point, runId, p.cfg.run.steps);
      const eventsFile = join(settings.dataDir, 'events', `${runId}.avro`);
      mkdirSync(resolve(settings.dataDir, 'events'), { recursive: true });
      const hooks = {
        onStep: (m: StepMetrics, rate: number) => progress.step(p.point, m, rate, pipeline?.phaseOf(runId)),
        log: (line: string) => progress.log(pool ? `[point ${p.point.index}] ${line}` : line),
      };
      let summary: { reason: string; step: number };
      try {
        summary = pool
          ? await pool.train({ cfg: p.cfg, runId, configJson: configJson(p.cfg), eventsFile, partitions: settings.partitions }, hooks)
          : await runTraining(p.cfg, {
              bus: pipeline!.bus,
              codec,
              partitions: settings.partitions,
              runId,
              eventsFile,
              configJson: configJson(p.cfg),
              interrupted: () => ctx.interruption.signal.aborted,
              ...hooks,
            });
      } catch (err) {
        // A trainer process that died, or a run that could not start: this point failed, the rest go on.
        progress.log(`sweep ${id}: point ${p.point.index} (${p.point.overrides.join(' ')}) failed: ${(err as Error).message}`);
        summary = { reason: 'failed', step: 0 };
      }
      if (!pool) await pipeline!.drain();
      const stop = pipeline!.outcome(runId).stop;
      progress.finish(p.point, summary.reason, summary.step, stop?.policy);
      if (summary.reason === 'failed' || summary.reason === 'bus_outage') failures++;
    };
    try {
      if (pool) {
        const size = pool.size;
        const queue = [...todo];
        await Promise.all(Array.from({ length: size }, async () => {
          for (let p = queue.shift(); p; p = queue.shift()) await trainPoint(p);
        }));
        await pipeline.drain();
      } else {
        for (const p of todo) {
          if (ctx.interruption.signal.aborted) break;
          await trainPoint(p);
        }
      }
    } finally {
      ctx.interruption.signal.removeEventListener('abort', onInterrupt);
    }
    const trainedSeconds = (Date.now() - trainingFrom) / 1000;
    progress.end();
    if (ctx.interruption.signal.aborted) throw new Interrupted(String(ctx.interruption.signal.reason ?? 'SIGINT'));

    await printResults({ id, planned, keys, store, database: settings.database, runIds, report: values.report ?? true, dataDir: settings.dataDir, trainedSeconds });
    if (failures > 0) throw new RuntimeFailure(`${failures} point${failures === 1 ? '' : 's'} of sweep ${id} failed; run the same command again to run them (finished points are skipped)`);
    return 0;
  } finally {
    await pool?.close();
    await pipeline?.stop();
    await store?.close();
  }
}

/** The table (every point, run now or found finished before), the steps saved, the report. */
async function printResults(o: {
  id: string;
  planned: PlannedPoint[];
  keys: string[];
  store: Store | undefined;
  database: string;
  runIds: Map<number, string>;
  report: boolean;
  dataDir: string;
  /** Seconds from the first point's start to the last one's end (start-up not counted). */
  trainedSeconds?: number;
}): Promise<void> {
  const { store, planned } = o;
  if (!store) {
    console.log(`sweep ${o.id}: the runs went to Kafka; the stack's ingest stores them (grokstream query sweep, grokstream report --sweep ${o.id})`);
    return;
  }
  const rows: PointResult[] = [];
  for (const p of planned) {
    const ran = o.runIds.get(p.point.index);
    const runId = ran ?? p.finished;
    rows.push(
      runId
        ? await pointResult(store, o.database, p, runId, ran ? 'ran' : 'skipped')
        : { point: p.point, runId: null, status: 'pending', memorizedStep: null, grokStep: null, finalTrainAcc: null, finalTestAcc: null, stopPolicy: null, lastStep: null, plannedSteps: p.cfg.run.steps },
    );
  }
  console.log(`sweep ${o.id}: ${planned.length} points (memorized: train acc ≥ ${MEMORIZED_TRAIN_ACC}; grokked: test acc ≥ ${GENERALIZED_TEST_ACC} after memorizing)`);
  console.log(summaryTable(rows, o.keys));
  const saved = stepsSaved(rows);
  console.log(
    `  early stops: ${saved.stopped} of ${rows.filter((r) => r.status === 'ran').length} runs, ${saved.steps} of ${saved.planned} planned steps saved` +
      (saved.seconds > 0 ? ` (~${saved.seconds < 120 ? `${saved.seconds.toFixed(0)} s` : `${(saved.seconds / 60).toFixed(1)} min`} of training at each run's rate)` : ''),
  );
  const ran = o.runIds.size;
  if (o.trainedSeconds !== undefined && ran > 0 && o.trainedSeconds > 0) {
    console.log(`  trained ${ran} point${ran === 1 ? '' : 's'} in ${o.trainedSeconds.toFixed(1)} s (${((3600 * ran) / o.trainedSeconds).toFixed(0)} runs/h)`);
  }
  if (o.report) {
    const out = join(o.dataDir, 'reports', `sweep-${o.id}.html`);
    const path = (await writeReport((sql) => store.query(sql), { database: o.database, sweep: o.id }, out)).path;
    console.log(`  report: ${shortPath(path)}`);
  }
}

/**
 * On Kafka: the points go to the sweeps topic for `grokstream worker` processes; then, with a store
 * to watch (the stack's ClickHouse, where ingest writes), progress until every point's run has
 * ended, and the table.
 */
async function onKafka(o: {
  ctx: CommandContext;
  id: string;
  planned: PlannedPoint[];
  todo: PlannedPoint[];
  keys: string[];
  store: Store | undefined;
  database: string;
  partitions: number;
  kafka: ReturnType<typeof kafkaSettings>;
  wait: boolean;
  checkpointDir: string | undefined;
  report: boolean;
  dataDir: string;
}): Promise<number> {
  const bus = kafkaBus(o.kafka, 'grokstream-sweep', o.ctx.log);
  const runIds = new Map<number, string>();
  try {
    await bus.ensureTopics([...standardTopics(o.partitions), { topic: TOPICS.sweeps, partitions: o.partitions }]);
    const producer = await bus.producer({ topics: [TOPICS.sweeps] });
    // A point run again on purpose gets a run id of its own; otherwise the same id every time.
    const attempt = Date.now().toString(36);
    const events: AnyEvent[] = o.todo.map((p) => {
      const runId = pointRunId(o.id, p.point.index, p.finished ? attempt : undefined);
      runIds.set(p.point.index, runId);
      return {
        name: 'SweepPoint',
        value: {
          event_id: randomUUID(),
          run_id: runId,
          seq: p.point.index,
          ts: Date.now(),
          sweep_id: o.id,
          point_index: p.point.index,
          point_count: o.planned.length,
          overrides: p.point.overrides,
          config_json: configJson(p.cfg),
          config_hash: p.hash,
          checkpoint_dir: o.checkpointDir ? resolve(o.checkpointDir) : null,
        },
      };
    });
    const published = Date.now();
    await new EventPublisher(producer, EventCodec.load()).publish(TOPICS.sweeps, events);
    await producer.close();
    console.error(`sweep ${o.id}: ${events.length} point${events.length === 1 ? '' : 's'} published to ${TOPICS.sweeps}; grokstream worker processes train them`);
    if (!o.wait || !o.store || events.length === 0) {
      if (!o.store && o.wait) console.error('  no store to follow them in (set GROKSTREAM_CLICKHOUSE_URL): not waiting');
      return 0;
    }
    // Follow the runs in the store until each has ended.
    const db = sqlIdent(o.database);
    const ids = [...runIds.values()];
    const inList = ids.map(sqlString).join(', ');
    let last = '';
    for (;;) {
      if (o.ctx.interruption.signal.aborted) throw new Interrupted(String(o.ctx.interruption.signal.reason ?? 'SIGINT'));
      const rows = await o.store.query<{ run_id: string; ended: string; last_step: number }>(`SELECT run_id, ended, last_step FROM ${db}.run_summary WHERE run_id IN (${inList})`);
      const ended = rows.filter((r) => r.ended === 'completed' || r.ended === 'early_stopped' || r.ended === 'failed');
      const line = `sweep ${o.id}: ${ended.length}/${ids.length} runs ended (${rows.length - ended.length} training)`;
      if (line !== last) console.error(line);
      last = line;
      if (ended.length === ids.length) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    await printResults({ id: o.id, planned: o.planned, keys: o.keys, store: o.store, database: o.database, runIds, report: o.report, dataDir: o.dataDir, trainedSeconds: (Date.now() - published) / 1000 });
    return 0;
  } finally {
    await bus.close();
  }
}

