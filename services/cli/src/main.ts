// grokstream — the command. `grokstream --help` lists the subcommands.
import { parseArgs } from 'node:util';
import { EventCodec, TOPICS, stopRunCommand } from '@grokstream/schemas';
import { EventPublisher, KafkaBus, MemoryBus, parseBrokers, standardTopics, type Bus } from '@grokstream/bus';
import { ConfigError, configJson, loadConfig, runTraining, type RunSummary } from '@grokstream/trainer';
import { Progress } from './progress.ts';
import { UsageError, detect, replay } from './detector-commands.ts';

const HELP = `grokstream: an event-sourced pipeline for training dynamics

Usage:
  grokstream run CONFIG.yaml [key.path=value ...] [options]
      Train the run CONFIG describes (examples/*.yaml), with dotted overrides such as
      optimizer.lr=1e-3. Events go to the in-process bus, or to Kafka with --kafka.
      --kafka BROKERS     host:port[,host:port] (default: $GROKSTREAM_KAFKA_BROKERS, else in-process)
      --resume RUN_ID     continue RUN_ID from its latest checkpoint (same config)
      --partitions N      partitions for topics created on Kafka (default 4)
      --events-file PATH  also append every event to an Avro object container file (for replay)
      --quiet             no progress line
  grokstream stop RUN_ID [--reason TEXT] --kafka BROKERS
      Ask a running trainer to stop at its next step boundary (a StopRun command).
  grokstream replay --from FILE.avro|FILE.jsonl|TOPIC [--detector CONFIG.yaml] [--run RUN_ID] [--kafka BROKERS] [--emit]
      Run the detectors over stored events (an event log written with --events-file, JSON Lines
      of StepMetrics, or a Kafka topic from the beginning) and print one line per phase change and per stop; --emit publishes them.
  grokstream detect [--detector CONFIG.yaml] --kafka BROKERS
      The detector service: phases and early-stop commands for every run on the bus, until Ctrl-C.

Exit codes: 0 done (completed or stopped by a command), 1 failed, 2 bad usage or config,
130 interrupted (Ctrl-C; the run is checkpointed and can be resumed).`;

function usage(message: string): never {
  console.error(`grokstream: ${message}\n(grokstream --help for usage)`);
  process.exit(2);
}

function busFrom(kafka: string | undefined, clientId: string): Bus {
  const brokers = kafka ?? process.env.GROKSTREAM_KAFKA_BROKERS;
  if (!brokers) return new MemoryBus(1);
  try {
    return new KafkaBus({ brokers: parseBrokers(brokers), clientId, logLevel: 'error' });
  } catch (err) {
    return usage((err as Error).message);
  }
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      kafka: { type: 'string' },
      resume: { type: 'string' },
      partitions: { type: 'string' },
      quiet: { type: 'boolean' },
      'events-file': { type: 'string' },
    },
  });
  const [file, ...overrides] = positionals;
  if (!file) usage('run needs a config file, e.g. grokstream run examples/modular-addition-grokking.yaml');
  const bad = overrides.find((o) => !o.includes('='));
  if (bad) usage(`"${bad}" is not an override: write key.path=value`);
  const partitions = values.partitions === undefined ? 4 : Number(values.partitions);
  if (!Number.isInteger(partitions) || partitions < 1) usage(`--partitions must be a positive integer, got ${values.partitions}`);

  let cfg;
  try {
    cfg = loadConfig(file, overrides);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.format());
      return 2;
    }
    throw err;
  }

  const bus = busFrom(values.kafka, 'grokstream-trainer');
  const where = bus.kind === 'kafka' ? `Kafka ${values.kafka ?? process.env.GROKSTREAM_KAFKA_BROKERS}` : 'the in-process bus';
  console.error(`grokstream run ${file}: ${cfg.run.steps} steps, events to ${where}`);
  let interrupted = false;
  let signals = 0;
  const onSignal = (sig: string) => {
    signals++;
    if (signals > 1) process.exit(130);
    interrupted = true;
    console.error(`\n${sig}: stopping at the next step boundary (again to quit at once)`);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  const progress = new Progress(process.stderr, cfg.run.steps, cfg.run.log_every);
  let summary: RunSummary;
  try {
    summary = await runTraining(cfg, {
      bus,
      codec: EventCodec.load(),
      partitions,
      resumeRunId: values.resume,
      eventsFile: values['events-file'],
      configJson: configJson(cfg),
      interrupted: () => interrupted,
      onStep: values.quiet ? undefined : (m, rate) => progress.update(m, rate),
      log: (line) => {
        progress.end();
        console.error(line);
      },
    });
  } finally {
    progress.end();
    await bus.close();
  }
  report(summary);
  if (summary.reason === 'failed') return 1;
  if (summary.reason === 'interrupted') return 130;
  return 0;
}

function report(s: RunSummary): void {
  const lines = [`run ${s.runId}: ${s.reason} at step ${s.step}${s.commandId ? ` (command ${s.commandId})` : ''}`];
  if (s.final) {
    const f = s.final;
    lines.push(
      `  final train loss ${f.train_loss.toFixed(4)}${f.train_acc === null ? '' : `, acc ${f.train_acc.toFixed(3)}`}` +
        `${f.test_loss === null ? '' : `; test loss ${f.test_loss.toFixed(4)}`}${f.test_acc === null ? '' : `, acc ${f.test_acc.toFixed(3)}`}`,
    );
  }
  if (s.final?.train_acc !== null && s.final?.train_acc !== undefined) {
    lines.push(`  memorized (train acc ≥ 0.99): ${s.memorizedAt === null ? 'no' : `step ${s.memorizedAt}`}`);
    lines.push(
      `  grokked (test acc ≥ 0.95 after memorizing): ${s.grokkedAt === null ? 'no' : `step ${s.grokkedAt}`}` +
        (s.grokkedAt !== null && s.memorizedAt !== null ? ` (delay ${s.grokkedAt - s.memorizedAt} steps)` : ''),
    );
  }
  if (s.error) lines.push(`  error: ${s.error.message}`);
  console.log(lines.join('\n'));
}

async function stop(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { kafka: { type: 'string' }, reason: { type: 'string' } } });
  const [runId] = positionals;
  if (!runId) usage('stop needs a RUN_ID');
  const bus = busFrom(values.kafka, 'grokstream-cli');
  if (bus.kind !== 'kafka') usage('stop needs --kafka BROKERS (or GROKSTREAM_KAFKA_BROKERS): an in-process run is stopped with Ctrl-C');
  try {
    await bus.ensureTopics(standardTopics(4));
    const producer = await bus.producer();
    const command = stopRunCommand({
      runId,
      policy: 'manual',
      reason: values.reason ?? 'stopped by hand (grokstream stop)',
      issuedBy: `grokstream stop (${process.env.USER ?? 'user'})`,
    });
    await new EventPublisher(producer, EventCodec.load()).publish(TOPICS.control, [{ name: 'StopRun', value: command }]);
    await producer.close();
    console.log(`sent StopRun ${command.command_id} to ${runId}`);
    return 0;
  } finally {
    await bus.close();
  }
}

const [command, ...rest] = process.argv.slice(2);
try {
  let code: number;
  switch (command) {
    case 'run':
      code = await run(rest);
      break;
    case 'stop':
      code = await stop(rest);
      break;
    case 'replay':
      code = await replay(rest);
      break;
    case 'detect':
      code = await detect(rest);
      break;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(HELP);
      code = command === undefined ? 2 : 0;
      break;
    default:
      usage(`unknown command "${command}"`);
  }
  process.exit(code);
} catch (err) {
  if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') || err instanceof UsageError) usage((err as Error).message);
  console.error(`grokstream: ${(err as Error).message}`);
  process.exit(1);
}
