// A sweep's trainer process (forked by trainer-pool.ts through bin/sweep-trainer.js): trains the
// jobs its parent sends, one at a time, on the parent's in-process bus through a RemoteBus over
// the IPC channel, so the parent's detector judges its events and its StopRuns reach this trainer,
// and the parent's ingest stores its events. Ctrl-C reaches the whole process group: a trainer
// stops its run at the step boundary, as `grokstream run` does, and its parent says what happened.
import { processChannel, RemoteBus } from '@grokstream/bus';
import { EventCodec } from '@grokstream/schemas';
import { runTraining } from '@grokstream/trainer';
import { isTrainerMessage, type FromTrainer, type TrainJob } from './trainer-messages.ts';

const channel = processChannel(process);
const bus = new RemoteBus(channel);
const codec = EventCodec.load();
let interrupted = false;
let queue = Promise.resolve();

const tell = (m: FromTrainer) => channel.post(m);
process.on('SIGINT', () => (interrupted = true));
process.on('SIGTERM', () => (interrupted = true));
channel.onClose(() => process.exit(0)); // the parent is gone: nothing to train for

async function train(job: TrainJob): Promise<void> {
  try {
    const summary = await runTraining(job.cfg, {
      bus,
      codec,
      partitions: job.partitions,
      runId: job.runId,
      configJson: job.configJson,
      ...(job.eventsFile ? { eventsFile: job.eventsFile } : {}),
      interrupted: () => interrupted,
      onStep: (m, rate) => tell({ k: 'step', job: job.job, m, rate }),
      log: (line) => tell({ k: 'log', job: job.job, line }),
    });
    tell({ k: 'trained', job: job.job, summary });
  } catch (err) {
    tell({ k: 'train-failed', job: job.job, error: (err as Error).stack ?? String(err) });
  }
}

channel.listen((m) => {
  if (!isTrainerMessage(m)) return; // the remote bus's
  if (m.k === 'train') queue = queue.then(() => train(m.job));
  else if (m.k === 'interrupt') interrupted = true;
  else if (m.k === 'exit') void queue.then(() => bus.close().catch(() => {})).then(() => process.exit(0));
});
tell({ k: 'ready', pid: process.pid });
