// grokstream replay and grokstream detect.
import { existsSync, openSync, readFileSync, readSync, closeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EventCodec, EventLogError, TOPICS, readEventLog, type AnyEvent } from '@grokstream/schemas';
import { EventPublisher, readAll, standardTopics } from '@grokstream/bus';
import { RuntimeFailure, UsageError, kafkaBus, serve, type Service } from '@grokstream/shell';
import { kafkaSettings, type CommandContext } from './context.ts';
import { DetectorService, JsonLinesError, describeOutput, parseStepLines, replayEvents } from '@grokstream/detector';
import { loadDetector } from './embedded-parts.ts';

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

/** `grokstream replay --from FILE|TOPIC`: prints one line per phase change and stop. */
export async function replay(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      from: { type: 'string' },
      kafka: { type: 'string' },
      detector: { type: 'string' },
      emit: { type: 'boolean' },
      run: { type: 'string' },
      'allow-truncated': { type: 'boolean' },
    },
  });
  const from = values.from;
  if (!from) throw new UsageError('replay needs --from FILE.avro, --from FILE.jsonl or --from TOPIC (a Kafka topic)');
  const options = loadDetector(values.detector);
  const codec = EventCodec.load();
  let events: AnyEvent[];
  const looksLikeFile = /[/\\]|\.(avro|jsonl|json)$/i.test(from);
  if (!existsSync(from) && looksLikeFile) throw new UsageError(`replay: ${from} does not exist`);
  const bus = existsSync(from) && !values.emit ? undefined : kafkaBus(kafkaSettings(ctx, values.kafka), 'grokstream-replay', ctx.log);
  try {
    if (existsSync(from) && isEventLog(from)) {
      try {
        events = await readEventLog(from, {
          allowTruncated: values['allow-truncated'],
          onTruncated: (t) => ctx.log.warn(`replay: ${from} is cut short at byte ${t.byteOffset} of ${t.fileBytes}; replaying its first ${t.events} events`),
        });
      } catch (err) {
        if (err instanceof EventLogError) throw new RuntimeFailure(`${err.message}${err.truncated ? '; --allow-truncated replays the complete part' : ''}`);
        throw err;
      }
    } else if (existsSync(from)) {
      try {
        events = parseStepLines(readFileSync(from, 'utf8'), from).map((value) => ({ name: 'StepMetrics', value }));
      } catch (err) {
        if (err instanceof JsonLinesError) throw new RuntimeFailure(err.message);
        throw err;
      }
    } else {
      events = [];
      let undecodable = 0;
      for (const m of await readAll(bus!, [from])) {
        try {
          const e = codec.decode(m.value);
          events.push({ name: e.name, value: e.value } as AnyEvent);
        } catch {
          undecodable++;
        }
      }
      if (undecodable > 0) ctx.log.warn(`replay: ${undecodable} undecodable messages skipped (they are on the dead-letter topic)`);
    }
    if (values.run) events = events.filter((e) => e.value.run_id === values.run);
    const outputs = await replayEvents(events, options);
    for (const o of outputs) console.log(describeOutput(o));
    ctx.log.info(`replay: ${events.length} events, ${new Set(events.map((e) => e.value.run_id)).size} runs, ${outputs.length} outputs (${options.identity.detector} ${options.identity.version})`);
    if (values.emit) {
      await bus!.ensureTopics(standardTopics(ctx.settings().partitions));
      const producer = await bus!.producer();
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
export async function detect(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({ args, options: { kafka: { type: 'string' }, detector: { type: 'string' }, partitions: { type: 'string' } } });
  const options = loadDetector(values.detector);
  const partitions = values.partitions === undefined ? ctx.settings().partitions : Number(values.partitions);
  if (!Number.isInteger(partitions) || partitions < 1) throw new UsageError(`--partitions must be a positive integer, got ${values.partitions}`);
  const bus = kafkaBus(kafkaSettings(ctx, values.kafka), 'grokstream-detector', ctx.log);
  let detector: DetectorService | undefined;
  const service: Service = {
    start: async () => {
      await bus.ensureTopics(standardTopics(partitions));
      detector = new DetectorService({
        ...options,
        bus,
        codec: EventCodec.load(),
        onOutput: (o) => console.log(describeOutput(o)),
        log: (l) => ctx.log.info(l),
      });
      await detector.start();
    },
    stop: async () => {
      await detector?.stop();
      await bus.close();
    },
    status: () => {
      const s = detector?.stats;
      return s ? `detect: ${s.events} events, ${s.activeRuns} active runs, ${s.phaseChanges} phase changes, ${s.stops} stops` : 'detect: starting';
    },
  };
  try {
    return await serve('detect', service, { log: ctx.log, interruption: ctx.interruption });
  } catch (err) {
    await bus.close().catch(() => {});
    throw err;
  }
}
