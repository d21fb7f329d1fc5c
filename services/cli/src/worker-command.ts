// grokstream worker: takes sweep points off Kafka (grokstream.sweeps.v1, consumer group
// grokstream-workers) and trains them, one at a time, until Ctrl-C. More workers, on more
// machines, share the points: adding machines is adding workers.
//
// A point stays uncommitted while it trains, its membership kept alive by heartbeats. If the
// worker dies, the group gives the point to another worker, which resumes its run (same run id)
// from the last checkpoint in the shared checkpoint directory. If the group rebalances (a worker
// joins or leaves), or the worker is told to stop, it checkpoints the run and hands the point
// back (the batch lease, services/bus/src/bus.ts). A run that finished leaves a marker, so a point
// delivered again after that is not trained twice: every point finishes once, with one RunFinished.
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EventCodec, TOPICS, type SweepPoint } from '@grokstream/schemas';
import { eventConsumer, standardTopics, type Bus } from '@grokstream/bus';
import { UsageError, kafkaBus, serve, type Service } from '@grokstream/shell';
import { configJson, latestCheckpoint, resolveConfig, runTraining } from '@grokstream/trainer';
import { readFinished, writeFinished } from '@grokstream/sweep';
import { kafkaSettings, type CommandContext } from './context.ts';

export const WORKER_GROUP = 'grokstream-workers';

/** Why a point can never be trained (its config does not parse or resolve), or undefined. */
export function pointProblem(point: SweepPoint): string | undefined {
  try {
    resolveConfig(JSON.parse(point.config_json), [], `sweep point ${point.run_id}`);
    return undefined;
  } catch (err) {
    return `point ${point.point_index} of sweep ${point.sweep_id} (${point.run_id}): ${(err as Error).message}; publish the sweep again with a config that loads`;
  }
}

export async function worker(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      kafka: { type: 'string' },
      'checkpoint-dir': { type: 'string' },
      group: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      'grokstream worker [--kafka BROKERS] [--checkpoint-dir DIR] [--group ID]: trains sweep points from Kafka until Ctrl-C.\n' +
        '  --checkpoint-dir DIR  where runs checkpoint when a point does not say (a directory every worker reaches, e.g. a shared volume)\n' +
        `  --group ID            the consumer group (default ${WORKER_GROUP}): workers in one group share the points`,
    );
    return 0;
  }
  const kafka = kafkaSettings(ctx, values.kafka);
  if (!kafka.fromEnvironment) throw new UsageError('grokstream worker takes its points from Kafka: give --kafka BROKERS or set GROKSTREAM_KAFKA_BROKERS');
  const settings = ctx.settings();
  const defaultDir = resolve(values['checkpoint-dir'] ?? '.grokstream/checkpoints');
  const me = `${hostname()}:${process.pid}`;
  const bus: Bus = kafkaBus(kafka, 'grokstream-worker', ctx.log);
  const codec = EventCodec.load();
  let done = 0;
  let current: string | null = null;
  let stepNow = 0;

  const train = async (point: SweepPoint, signal: AbortSignal | undefined): Promise<void> => {
    const runId = point.run_id;
    const dir = point.checkpoint_dir ?? defaultDir;
    const finished = readFinished(dir, runId);
    if (finished) {
      ctx.log.info(`worker: point ${point.point_index} of sweep ${point.sweep_id} (${runId}) finished already (${finished.reason} at step ${finished.step} on ${finished.worker}); skipped`);
      return;
    }
    const cfg = resolveConfig(JSON.parse(point.config_json), [`run.checkpoint.dir=${dir}`], `sweep point ${runId}`);
    const resume = latestCheckpoint(dir, runId) !== undefined;
    current = runId;
    ctx.log.info(`worker ${me}: ${resume ? 'resumes' : 'starts'} point ${point.point_index + 1}/${point.point_count} of sweep ${point.sweep_id} (${point.overrides.join(' ')}) as ${runId}`);
    const handedBack = () => signal?.aborted === true || ctx.interruption.signal.aborted;
    const summary = await runTraining(cfg, {
      bus,
      codec,
      partitions: settings.partitions,
      ...(resume ? { resumeRunId: runId } : { runId }),
      configJson: configJson(cfg),
      handOff: handedBack,
      onStep: (m) => (stepNow = m.step),
      log: (line) => ctx.log.info(`worker [${runId}] ${line}`),
    });
    current = null;
    if (summary.reason === 'handed_off') {
      // Checkpointed at the step boundary, not finished: whoever gets the point next resumes it.
      throw new Error(`point ${runId} handed back at step ${summary.step} (${signal?.aborted ? String((signal.reason as Error)?.message ?? signal.reason) : 'the worker is stopping'})`);
    }
    if (summary.reason === 'bus_outage') throw new Error(`point ${runId} suspended by a Kafka outage at step ${summary.step}; it comes again`);
    writeFinished(dir, runId, { reason: summary.reason, step: summary.step, worker: me, at: new Date().toISOString() });
    done++;
    ctx.log.info(`worker ${me}: point ${point.point_index + 1}/${point.point_count} of sweep ${point.sweep_id} ${summary.reason} at step ${summary.step} (${done} done here)`);
  };

  const service: Service = {
    start: async () => {
      await bus.ensureTopics([...standardTopics(settings.partitions), { topic: TOPICS.sweeps, partitions: settings.partitions }]);
      const deadLetters = await bus.producer();
      const consumer = eventConsumer(bus, {
        groupId: values.group ?? WORKER_GROUP,
        topics: [TOPICS.sweeps],
        fromBeginning: true,
        codec,
        accepts: new Set(['SweepPoint']),
        // A point whose config does not resolve would fail every time: dead-lettered, not retried.
        check: (e) => (e.name === 'SweepPoint' ? pointProblem(e.value) : undefined),
        deadLetters,
        // A point handed back comes again after a short pause; a failing one backs off.
        retryDelayMs: (failures) => Math.min(30_000, 500 * 2 ** Math.min(failures - 1, 6)),
        onError: (err) => ctx.log.warn(`worker: ${(err as Error).message}`),
        log: (line) => ctx.log.warn(line),
        handle: async (events, batch) => {
          for (const e of events) {
            if (e.name !== 'SweepPoint') continue;
            if (batch.signal?.aborted || ctx.interruption.signal.aborted) throw new Error('handing the rest of the batch back');
            await train(e.value, batch.signal);
          }
        },
      });
      stopConsumer = () => consumer.stop();
      await consumer.start();
      ctx.log.info(`worker ${me}: taking sweep points from ${TOPICS.sweeps} on ${kafka.brokers.join(',')} (group ${values.group ?? WORKER_GROUP}); checkpoints in ${defaultDir} unless a point says`);
    },
    stop: async () => {
      await stopConsumer?.();
      await bus.close();
    },
    status: () => `worker ${me}: ${done} point${done === 1 ? '' : 's'} done${current ? `; training ${current} at step ${stepNow}` : '; waiting for points'}`,
  };
  let stopConsumer: (() => Promise<void>) | undefined;
  return serve('worker', service, { log: ctx.log, interruption: ctx.interruption });
}
