// grokstream ingest: the bus -> store projection as a service, until Ctrl-C.
import { parseArgs } from 'node:util';
import { EventCodec, TOPICS } from '@grokstream/schemas';
import { standardTopics } from '@grokstream/bus';
import { Ingest } from '@grokstream/ingest';
import { SETTINGS_HELP, describeStore, kafkaBus, openStore, serve, type Service } from '@grokstream/shell';
import { kafkaSettings, type CommandContext } from './context.ts';

export async function ingest(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({ args, options: { kafka: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(`grokstream ingest [--kafka BROKERS]: projects every event from Kafka into ClickHouse (or chdb) until Ctrl-C.\n\n${SETTINGS_HELP}`);
    return 0;
  }
  const settings = ctx.settings();
  const kafka = kafkaSettings(ctx, values.kafka);
  const bus = kafkaBus(kafka, 'grokstream-ingest', ctx.log);
  const store = openStore(settings);
  let ingest: Ingest | undefined;
  const service: Service = {
    start: async () => {
      await bus.ensureTopics(standardTopics(settings.partitions));
      const producer = await bus.producer();
      ingest = new Ingest({
        bus,
        store,
        codec: EventCodec.load(),
        deadLetters: producer,
        groupId: settings.ingestGroup,
        onError: (err) => ctx.log.warn(`ingest: batch failed, will retry: ${(err as Error).message}`),
        log: (line) => ctx.log.warn(line),
      });
      await ingest.start();
      ctx.log.info(`ingest: ${kafka.brokers.join(',')} -> ${describeStore(settings.store)} database ${settings.database} (topics ${TOPICS.events}, ${TOPICS.phases}, ${TOPICS.control}, ${TOPICS.deadLetter})`);
    },
    stop: async () => {
      await ingest?.stop();
      await bus.close();
      await store.close();
    },
    status: () => {
      const s = ingest?.stats;
      return s ? `ingest: ${s.events} events, ${s.rows} rows, ${s.deadLetters} dead letters, ${s.failures} failed batches` : 'ingest: starting';
    },
  };
  try {
    return await serve('ingest', service, { log: ctx.log, interruption: ctx.interruption });
  } catch (err) {
    await bus.close().catch(() => {});
    await store.close().catch(() => {});
    throw err;
  }
}
