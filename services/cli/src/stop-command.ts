// grokstream stop RUN_ID: a StopRun command for a run that is on the events topic.
import { parseArgs } from 'node:util';
import { EventCodec, TOPICS, stopRunCommand } from '@grokstream/schemas';
import { EventPublisher, readRunTail, standardTopics } from '@grokstream/bus';
import { RuntimeFailure, UsageError, kafkaBus } from '@grokstream/shell';
import { kafkaSettings, type CommandContext } from './context.ts';

export async function stop(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { kafka: { type: 'string' }, reason: { type: 'string' }, force: { type: 'boolean' } },
  });
  const [runId, extra] = positionals;
  if (!runId) throw new UsageError('stop needs a RUN_ID (grokstream run prints it when it starts)');
  if (extra) throw new UsageError(`stop takes one RUN_ID, got also "${extra}"`);
  const kafka = kafkaSettings(ctx, values.kafka);
  const bus = kafkaBus(kafka, 'grokstream-cli', ctx.log);
  const codec = EventCodec.load();
  try {
    await bus.ensureTopics(standardTopics(ctx.settings().partitions));
    if (!values.force) {
      const run = await readRunTail(bus, codec, runId);
      if (!run.started) {
        throw new RuntimeFailure(
          `no run ${runId} on ${TOPICS.events} at ${kafka.brokers.join(',')}: check the id (grokstream run prints it), ` +
            'or pass --force to send the command anyway',
        );
      }
      if (run.finished) {
        console.error(`run ${runId} already finished (${run.finished.reason} at step ${run.finished.step}); nothing to stop`);
        return 0;
      }
    }
    const producer = await bus.producer();
    const command = stopRunCommand({
      runId,
      policy: 'manual',
      reason: values.reason ?? 'stopped by hand (grokstream stop)',
      issuedBy: `grokstream stop (${process.env.USER ?? 'user'})`,
    });
    await new EventPublisher(producer, codec).publish(TOPICS.control, [{ name: 'StopRun', value: command }]);
    await producer.close();
    console.log(`sent StopRun ${command.command_id} to ${runId}`);
    return 0;
  } finally {
    await bus.close();
  }
}
