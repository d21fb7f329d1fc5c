// The command consumer of a trainer on Kafka, in a worker thread (control.ts starts it). A step is
// one synchronous block on the main thread; a Kafka client living there only reads its socket
// between steps, so a StopRun that reached the broker during a step was fetched a step or two
// later (bench:stop: up to 4 extra steps). Here the consumer's event loop is free: the command is
// fetched at once and posted to the main thread, which takes it at the next step boundary with
// receiveMessageOnPort, without an event-loop turn of its own.
import { workerData, type MessagePort } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import { TOPICS, EventCodec } from '@grokstream/schemas';
import { KafkaBus, eventConsumer, type KafkaBusOptions } from '@grokstream/bus';
import { acceptStop, judgedThrough, type ControlMessage, type ControlRequest } from './control-messages.ts';

export interface ControlWorkerData {
  kafka: KafkaBusOptions;
  runId: string;
  obeyed: string[];
  port: MessagePort;
  /** Int32Array over a SharedArrayBuffer: [0] the trainer's last completed step. */
  step: Int32Array;
  /** Int32Array over a SharedArrayBuffer: [0] the last step a detector has judged (DetectorProgress), 0 none. */
  judged: Int32Array;
}

const data = workerData as ControlWorkerData;
const { port } = data;
const post = (m: ControlMessage) => port.postMessage(m);
const log = (line: string) => post({ kind: 'log', line });

const bus = new KafkaBus({ ...data.kafka, log: (_level, line) => log(line) });
const obeyed = new Set(data.obeyed);
let sent = false;
try {
  const deadLetters = await bus.producer();
  const consumer = eventConsumer(bus, {
    // A private group per trainer process: every trainer sees every command.
    groupId: `grokstream-trainer-${data.runId}-${randomUUID().slice(0, 8)}`,
    topics: [TOPICS.control],
    fromBeginning: true,
    codec: EventCodec.load(),
    deadLetters,
    seedFromDeadLetters: false,
    log,
    onCrash: (err, restart) =>
      log(restart ? `control: the command consumer lost Kafka (${err.message}); it reconnects by itself` : `control: the command consumer stopped: ${err.message}`),
    handle: async (events) => {
      const command = sent ? undefined : acceptStop(events, data.runId, obeyed);
      if (command) {
        sent = true;
        post({ kind: 'stop', command, receivedAtStep: Atomics.load(data.step, 0) });
      }
      // After the stop: a StopRun of a judged step is posted before the gate (stop-gate.ts) can see the step judged.
      const through = judgedThrough(events, data.runId);
      if (through !== undefined && through > Atomics.load(data.judged, 0)) Atomics.store(data.judged, 0, through);
    },
  });
  port.on('message', (request: ControlRequest) => {
    if (request.kind !== 'close') return;
    void (async () => {
      await consumer.stop().catch((err: Error) => log(`control: stopping the command consumer: ${err.message}`));
      await deadLetters.close().catch(() => {});
      await bus.close().catch(() => {});
      post({ kind: 'closed' });
      port.close();
    })();
  });
  await consumer.start();
  post({ kind: 'ready' });
} catch (err) {
  post({ kind: 'failed', message: (err as Error).message });
  await bus.close().catch(() => {});
  port.close();
}
