// grokstream stop RUN_ID: a StopRun command for a run that is on the events topic.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { EventCodec, TOPICS, stopRunCommand } from '@grokstream/schemas';
import { EventPublisher, partitionForKey, standardTopics, waitUntil, type Bus } from '@grokstream/bus';
import { RuntimeFailure, UsageError, kafkaBus } from '@grokstream/shell';
import { kafkaSettings, type CommandContext } from './context.ts';

export interface RunOnBus {
  started: boolean;
  finished?: { reason: string; step: number };
}

/** Reads the run's partition of the events topic to its current end: did it start, did it finish? */
export async function findRun(bus: Bus, codec: EventCodec, runId: string, timeoutMs = 60_000): Promise<RunOnBus> {
  const ends = await bus.endOffsets(TOPICS.events);
  const partition = partitionForKey(runId, ends.length);
  const end = Number(ends.find((e) => e.partition === partition)?.offset ?? 0);
  const found: RunOnBus = { started: false };
  if (end === 0) return found;
  let reached = 0;
  const consumer = bus.consumer({
    groupId: `grokstream-find-${randomUUID()}`,
    topics: [TOPICS.events],
    fromBeginning: true,
    commit: false,
    handleBatch: async (batch) => {
      if (batch.partition !== partition) return;
      for (const m of batch.messages) {
        reached = Number(m.offset) + 1;
        if (Number(m.offset) >= end || m.key?.toString('utf8') !== runId) continue;
        try {
          const e = codec.decode(m.value);
          if (e.name === 'RunStarted') found.started = true;
          // A later RunStarted (a resume) reopens the run.
          if (e.name === 'RunStarted') delete found.finished;
          if (e.name === 'RunFinished') found.finished = { reason: e.value.reason, step: e.value.step };
        } catch {
          // undecodable: the dead-letter path's business
        }
      }
    },
  });
  await consumer.start();
  try {
    await waitUntil(() => reached >= end, `reading partition ${partition} of ${TOPICS.events}`, timeoutMs);
  } finally {
    await consumer.stop();
  }
  return found;
}

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
      const run = await findRun(bus, codec, runId);
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
