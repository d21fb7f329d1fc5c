// grokstream replay and grokstream detect.
import { existsSync, openSync, readFileSync, readSync, closeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EventCodec, TOPICS, readEventLog, type AnyEvent } from '@grokstream/schemas';
import { EventPublisher, KafkaBus, parseBrokers, readAll, standardTopics } from '@grokstream/bus';
import {
  DetectorConfigError,
  DetectorService,
  JsonLinesError,
  describeOutput,
  detectorOptions,
  loadDetectorConfig,
  parseStepLines,
  replayEvents,
} from '@grokstream/detector';

export class UsageError extends Error {}

/** An Avro object container file starts with 'Obj' 0x01. */
function isEventLog(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.equals(Buffer.from('Obj\x01', 'latin1'));
  } finally {
    closeSync(fd);
  }
}

function kafkaFrom(flag: string | undefined, clientId: string): KafkaBus | undefined {
  const brokers = flag ?? process.env.GROKSTREAM_KAFKA_BROKERS;
  if (!brokers) return undefined;
  return new KafkaBus({ brokers: parseBrokers(brokers), clientId, logLevel: 'error' });
}

function loadConfig(file: string | undefined) {
  try {
    return detectorOptions(loadDetectorConfig(file));
  } catch (err) {
    if (err instanceof DetectorConfigError || (err as Error).message.includes('option')) throw new UsageError((err as Error).message);
    throw err;
  }
}

/** `grokstream replay --from FILE|TOPIC`: prints one line per phase change and stop. */
export async function replay(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { from: { type: 'string' }, kafka: { type: 'string' }, detector: { type: 'string' }, emit: { type: 'boolean' }, run: { type: 'string' } },
  });
  if (!values.from) throw new UsageError('replay needs --from FILE.avro, --from FILE.jsonl or --from TOPIC (with --kafka)');
  const options = loadConfig(values.detector);
  const codec = EventCodec.load();
  let events: AnyEvent[];
  const bus = kafkaFrom(values.kafka, 'grokstream-replay');
  try {
    if (existsSync(values.from) && isEventLog(values.from)) {
      events = await readEventLog(values.from);
    } else if (existsSync(values.from)) {
      try {
        events = parseStepLines(readFileSync(values.from, 'utf8'), values.from).map((value) => ({ name: 'StepMetrics', value }));
      } catch (err) {
        if (err instanceof JsonLinesError) throw new UsageError(err.message);
        throw err;
      }
    } else {
      if (!bus) throw new UsageError(`${values.from} is not a file; to replay a Kafka topic give --kafka BROKERS (or GROKSTREAM_KAFKA_BROKERS)`);
      events = [];
      let undecodable = 0;
      for (const m of await readAll(bus, [values.from])) {
        try {
          const e = codec.decode(m.value);
          events.push({ name: e.name, value: e.value } as AnyEvent);
        } catch {
          undecodable++;
        }
      }
      if (undecodable > 0) console.error(`replay: ${undecodable} undecodable messages skipped (they are on the dead-letter topic)`);
    }
    if (values.run) events = events.filter((e) => e.value.run_id === values.run);
    const outputs = await replayEvents(events, options);
    for (const o of outputs) console.log(describeOutput(o));
    console.error(`replay: ${events.length} events, ${new Set(events.map((e) => e.value.run_id)).size} runs, ${outputs.length} outputs (${options.identity.detector} ${options.identity.version})`);
    if (values.emit) {
      if (!bus) throw new UsageError('--emit needs --kafka BROKERS');
      await bus.ensureTopics(standardTopics(4));
      const producer = await bus.producer();
      const publisher = new EventPublisher(producer, codec);
      await publisher.publish(TOPICS.phases, outputs.filter((o) => o.name === 'PhaseChanged'));
      await publisher.publish(TOPICS.control, outputs.filter((o) => o.name === 'StopRun'));
      await producer.close();
    }
    return 0;
  } finally {
    await bus?.close();
  }
}

/** `grokstream detect`: the detector service on Kafka, until Ctrl-C. */
export async function detect(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { kafka: { type: 'string' }, detector: { type: 'string' }, partitions: { type: 'string' } } });
  const options = loadConfig(values.detector);
  const bus = kafkaFrom(values.kafka, 'grokstream-detector');
  if (!bus) throw new UsageError('detect needs --kafka BROKERS (or GROKSTREAM_KAFKA_BROKERS)');
  await bus.ensureTopics(standardTopics(Number(values.partitions ?? 4)));
  const service = new DetectorService({
    ...options,
    bus,
    codec: EventCodec.load(),
    onOutput: (o) => console.log(describeOutput(o)),
    log: (l) => console.error(l),
  });
  await service.start();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await service.stop();
  await bus.close();
  const s = service.stats;
  console.error(`detect: stopped after ${s.events} events, ${s.phaseChanges} phase changes, ${s.stops} stops`);
  return 0;
}
