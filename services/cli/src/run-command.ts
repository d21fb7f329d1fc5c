// grokstream run (train a config) and grokstream resend (send events a trainer spilled).
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EventCodec, TOPICS } from '@grokstream/schemas';
import { EventPublisher, standardTopics, type Bus } from '@grokstream/bus';
import { RuntimeFailure, UsageError, kafkaBus, Interrupted, describeStore } from '@grokstream/shell';
import { GENERALIZED_ACC, MEMORIZED_ACC, configJson, findSpills, loadConfig, newRunId, readSpills, removeSpills, runTraining, type RunSummary } from '@grokstream/trainer';
import type { Store } from '@grokstream/store';
import { startUi, writeReport, type UiServer } from '@grokstream/report';
import { Progress } from './progress.ts';
import { kafkaSettings, type CommandContext } from './context.ts';
import { EmbeddedPipeline, type RunOutcome } from './embedded-pipeline.ts';
import { loadDetector, openCommandStore, parsePort, storeFlagSettings } from './embedded-parts.ts';

export function positiveInt(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got ${text}`);
  return n;
}

/** The directory must exist and the file be writable there: checked before any training. */
function checkEventsFile(path: string): void {
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) throw new UsageError(`--events-file ${path}: directory ${dir} does not exist; create it or choose another path`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`--events-file ${path}: ${dir} is not a directory`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`--events-file ${path} is a directory; give a file name such as ${path}/run.avro`);
}

export async function run(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    allowNegative: true,
    options: {
      kafka: { type: 'string' },
      clickhouse: { type: 'string' },
      resume: { type: 'string' },
      partitions: { type: 'string' },
      quiet: { type: 'boolean' },
      'events-file': { type: 'string' },
      detect: { type: 'boolean', default: true },
      detector: { type: 'string' },
      store: { type: 'boolean', default: true },
      report: { type: 'boolean', default: true },
      ui: { type: 'boolean', default: false },
      port: { type: 'string' },
    },
  });
  const [file, ...overrides] = positionals;
  if (!file) throw new UsageError('run needs a config file, e.g. grokstream run examples/modular-addition-grokking.yaml');
  const bad = overrides.find((o) => !o.includes('='));
  if (bad) throw new UsageError(`"${bad}" is not an override: write key.path=value`);
  const partitions = positiveInt('--partitions', values.partitions, ctx.settings().partitions);
  if (values['events-file']) checkEventsFile(values['events-file']);
  const port = parsePort(values.port);
  const cfg = loadConfig(file, overrides); // ConfigError: exit 2 with every problem listed
  const kafka = kafkaSettings(ctx, values.kafka);
  const runId = values.resume ?? newRunId(cfg.run.name);

  // On Kafka the trainer runs alone: the stack's detect and ingest services do the rest.
  let pipeline: EmbeddedPipeline | undefined;
  let store: Store | undefined;
  let ui: UiServer | undefined;
  let bus: Bus;
  let where: string;
  let eventsFile = values['events-file'];
  const settings = ctx.settings();
  const storeSettings = storeFlagSettings(settings, values.clickhouse);
  if (kafka.fromEnvironment) {
    const embeddedOnly = [
      ...(['detector', 'clickhouse', 'port'] as const).filter((f) => values[f] !== undefined).map((f) => `--${f}`),
      ...(values.ui ? ['--ui'] : []),
      ...(['detect', 'store', 'report'] as const).filter((f) => values[f] === false).map((f) => `--no-${f}`),
    ];
    if (embeddedOnly.length) {
      throw new UsageError(
        `${embeddedOnly[0]} is for the embedded pipeline; with Kafka the trainer runs alone and the stack's services detect, store and show ` +
          '(grokstream detect, grokstream ingest, grokstream ui --clickhouse URL)',
      );
    }
    bus = kafkaBus(kafka, 'grokstream-trainer', ctx.log);
    where = `Kafka at ${kafka.brokers.join(',')} (detect and ingest are the stack's services)`;
  } else {
    const detector = values.detect ? loadDetector(values.detector) : undefined;
    if (values.store) store = await openCommandStore(storeSettings, settings.database);
    if (!values.store && values.ui) throw new UsageError('--ui shows the store: it cannot go with --no-store');
    if (values.port !== undefined && !values.ui) throw new UsageError('--port is the live page\'s: give --ui too');
    eventsFile ??= join(settings.dataDir, 'events', `${runId}.avro`);
    mkdirSync(dirname(resolve(eventsFile)), { recursive: true });
    pipeline = new EmbeddedPipeline({ detector, store, log: (l) => ctx.log.info(l) });
    await pipeline.start();
    bus = pipeline.bus;
    const parts = [detector ? 'detector' : undefined, store ? `store ${describeStore(storeSettings)}` : undefined, `event log ${shortPath(eventsFile)}`].filter(Boolean);
    where = `the embedded pipeline (${parts.join(', ')})`;
    if (values.ui && store) {
      const q = store;
      ui = await startUi({ query: (sql) => q.query(sql), database: settings.database, port: port ?? 8737, log: (l) => ctx.log.warn(l) });
      console.error(`live page: ${ui.url}?run=${encodeURIComponent(runId)}`);
    }
  }
  console.error(`grokstream run ${file}: ${cfg.run.steps} steps, events to ${where}`);
  const progress = new Progress(process.stderr, cfg.run.steps, cfg.run.log_every);
  let summary: RunSummary;
  let outcome: RunOutcome | undefined;
  let reportPath: string | undefined;
  let served = false;
  try {
    try {
      summary = await runTraining(cfg, {
        bus,
        codec: EventCodec.load(),
        partitions,
        resumeRunId: values.resume,
        runId,
        eventsFile,
        configJson: configJson(cfg),
        interrupted: () => ctx.interruption.signal.aborted,
        onStep: values.quiet ? undefined : (m, rate) => progress.update(m, rate, pipeline?.phaseOf(m.run_id)),
        log: (line) => {
          progress.end();
          ctx.log.info(line);
        },
      });
    } finally {
      progress.end();
    }
    if (pipeline) {
      await pipeline.drain();
      if (values.detect) outcome = pipeline.outcome(summary.runId);
      if (store && values.report && summary.reason !== 'bus_outage') {
        const q = store;
        const out = join(settings.dataDir, 'reports', `${summary.runId}.html`);
        reportPath = (await writeReport((sql) => q.query(sql), { database: settings.database, runs: [summary.runId] }, out)).path;
      }
    }
    report(summary, outcome);
    if (pipeline) {
      const lines: string[] = [];
      if (store) lines.push(`  data: ${storeSettings.kind === 'chdb' ? shortPath(storeSettings.path) : describeStore(storeSettings)}, database ${settings.database}; events: ${shortPath(eventsFile!)}`);
      else lines.push(`  events: ${shortPath(eventsFile!)} (nothing stored: --no-store)`);
      if (reportPath) lines.push(`  report: ${shortPath(reportPath)}`);
      console.log(lines.join('\n'));
    }
    // Serving on after the run, until Ctrl-C; a run interrupted by Ctrl-C ends at once, as without --ui.
    const signal = ctx.interruption.signal;
    if (ui && !signal.aborted) {
      console.error(`live page: ${ui.url}?run=${encodeURIComponent(summary.runId)} (Ctrl-C to stop serving)`);
      await new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
      served = true;
    }
  } finally {
    await ui?.close();
    if (pipeline) await pipeline.stop();
    else await bus.close();
    await store?.close();
  }
  if (summary.reason === 'bus_outage') {
    throw new RuntimeFailure(
      `run ${summary.runId} suspended at step ${summary.step}: ${summary.error?.message}. It is checkpointed and ` +
        `${summary.spilledEvents} unsent events are in ${summary.spilledTo}; nothing is lost. Once Kafka answers again, ` +
        `\`grokstream run ${[file, ...overrides].join(' ')} --resume ${summary.runId}${values.kafka ? ` --kafka ${values.kafka}` : ''}\` sends them and continues ` +
        `(or \`grokstream resend ${summary.spilledTo}\` only sends them).`,
    );
  }
  if (summary.reason === 'failed') return 1;
  // Ctrl-C that ends the serving after a finished run is the normal way out: exit 0.
  if (summary.reason === 'interrupted' && !served) throw new Interrupted(String(ctx.interruption.signal.reason ?? 'SIGINT'));
  return 0;
}

/** A path relative to the working directory when it is inside it. */
export function shortPath(p: string): string {
  const rel = relative(process.cwd(), resolve(p));
  return rel.startsWith('..') ? resolve(p) : rel;
}

function report(s: RunSummary, outcome?: RunOutcome): void {
  const lines = [`run ${s.runId}: ${s.reason === 'bus_outage' ? 'suspended (bus outage)' : s.reason} at step ${s.step}${s.commandId ? ` (command ${s.commandId})` : ''}`];
  if (s.resent) lines.push(`  re-sent ${s.resent} events spilled by an earlier outage`);
  if (s.final) {
    const f = s.final;
    lines.push(
      `  final train loss ${f.train_loss.toFixed(4)}${f.train_acc === null ? '' : `, acc ${f.train_acc.toFixed(3)}`}` +
        `${f.test_loss === null ? '' : `; test loss ${f.test_loss.toFixed(4)}`}${f.test_acc === null ? '' : `, acc ${f.test_acc.toFixed(3)}`}`,
    );
  }
  if (s.final?.train_acc !== null && s.final?.train_acc !== undefined) {
    if (s.resumedFrom !== undefined) lines.push(`  (resumed from step ${s.resumedFrom}: the steps below are of this session)`);
    lines.push(`  memorized (train acc ≥ ${MEMORIZED_ACC}): ${s.memorizedAt === null ? 'no' : `step ${s.memorizedAt}`}`);
    lines.push(
      `  grokked (test acc ≥ ${GENERALIZED_ACC} after memorizing): ${s.grokkedAt === null ? 'no' : `step ${s.grokkedAt}`}` +
        (s.grokkedAt !== null && s.memorizedAt !== null ? ` (delay ${s.grokkedAt - s.memorizedAt} steps)` : ''),
    );
  }
  if (outcome) {
    lines.push(`  phases (detector): ${outcome.phases.length ? outcome.phases.map((p) => `${p.phase} at ${p.step}`).join(', ') : 'none yet'}`);
    lines.push(`  stop: ${outcome.stop ? `at step ${outcome.stop.step} by ${outcome.stop.policy}: ${outcome.stop.reason}` : 'none (the run went its full length)'}`);
  }
  if (s.error && s.reason === 'failed') lines.push(`  error: ${s.error.message}`);
  console.log(lines.join('\n'));
}

/** `grokstream resend PATH...`: spill files, or run checkpoint directories holding them. */
export async function resend(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { kafka: { type: 'string' } } });
  if (positionals.length === 0) throw new UsageError('resend needs spill files or run checkpoint directories (e.g. checkpoints/RUN_ID)');
  const files: string[] = [];
  for (const p of positionals) {
    if (!existsSync(p)) throw new UsageError(`resend: ${p} does not exist`);
    if (statSync(p).isDirectory()) {
      const found = findSpills(dirname(resolve(p)), resolve(p).split('/').pop()!);
      if (found.length === 0) throw new UsageError(`resend: no spill files (spill-*.avro) in ${p}`);
      files.push(...found);
    } else files.push(p);
  }
  const events = await readSpills(files);
  const kafka = kafkaSettings(ctx, values.kafka);
  const bus = kafkaBus(kafka, 'grokstream-resend', ctx.log);
  try {
    await bus.ensureTopics(standardTopics(ctx.settings().partitions));
    const producer = await bus.producer();
    const publisher = new EventPublisher(producer, EventCodec.load());
    for (let i = 0; i < events.length; i += 500) await publisher.publish(TOPICS.events, events.slice(i, i + 500));
    await producer.close();
  } finally {
    await bus.close();
  }
  removeSpills(files);
  console.log(`sent ${events.length} events from ${files.length} spill file${files.length === 1 ? '' : 's'} to ${kafka.brokers.join(',')}; removed them`);
  return 0;
}
