// The trainer's ear on the command stream: StopRun commands for its run, each obeyed once
// (command_id), checked at step boundaries. On Kafka the consumer runs in a worker thread
// (control-worker.ts): the main thread is busy with steps and would read its socket late. On the
// in-process bus (embedded) it runs here: a published command is delivered synchronously.
import { randomUUID } from 'node:crypto';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { TOPICS, type EventCodec, type StopRun } from '@grokstream/schemas';
import { KafkaBus, eventConsumer, type Bus, type Consumer, type Producer } from '@grokstream/bus';
import { acceptStop, judgedThrough, type ControlMessage, type ControlRequest } from './control-messages.ts';
import type { ControlWorkerData } from './control-worker.ts';
import { tsWorkerSource } from './worker-source.ts';

export interface CommandListener {
  /** Resolves once the command consumer holds its partitions (commands from then on are seen). */
  start(): Promise<void>;
  /** The StopRun to obey at this step boundary, if one arrived. */
  stopRequested(): StopRun | undefined;
  /** The trainer's last completed step when the StopRun arrived. */
  receivedAtStep(): number | undefined;
  /** The trainer completed this step (recorded with a command that arrives). */
  noteStep(step: number): void;
  /** The last step a detector has judged for this run (its DetectorProgress), if any: the stop gate's (stop-gate.ts). */
  judgedThrough(): number | undefined;
  stop(): Promise<void>;
}

export interface ListenOptions {
  bus: Bus;
  codec: EventCodec;
  deadLetters: Producer;
  runId: string;
  /** Commands already obeyed (a resumed run's): never obeyed again. */
  obeyed: ReadonlySet<string>;
  log?: (line: string) => void;
  /** Where the consumer runs; default: a worker thread on Kafka (when its options can cross), here otherwise. */
  where?: 'worker' | 'here';
}

/** The command listener for a trainer on this bus (see the top of the file). */
export function listenForCommands(o: ListenOptions): CommandListener {
  const portable = o.bus instanceof KafkaBus ? o.bus.portableOptions() : undefined;
  const where = o.where ?? (portable ? 'worker' : 'here');
  if (where === 'worker') {
    if (!portable) throw new Error('a command listener in a worker thread needs a Kafka bus whose options can be copied to it');
    return new WorkerCommandListener(portable, o);
  }
  return new InProcessCommandListener(o);
}

class InProcessCommandListener implements CommandListener {
  private pending: StopRun | undefined;
  private received: number | undefined;
  private judged: number | undefined;
  private step = -1;
  private readonly consumer: Consumer;

  constructor(o: ListenOptions) {
    const log = o.log ?? ((l: string) => console.error(l));
    this.consumer = eventConsumer(o.bus, {
      // A private group per trainer process: every trainer sees every command.
      groupId: `grokstream-trainer-${o.runId}-${randomUUID().slice(0, 8)}`,
      topics: [TOPICS.control],
      fromBeginning: true,
      codec: o.codec,
      deadLetters: o.deadLetters,
      // A new group every time: there are no letters of its own to read back.
      seedFromDeadLetters: false,
      log,
      // kafkajs restarts the consumer by itself after a broker outage; say so once, quietly.
      onCrash: (err, restart) =>
        log(restart ? `control: the command consumer lost Kafka (${err.message}); it reconnects by itself` : `control: the command consumer stopped: ${err.message}`),
      handle: async (events) => {
        const through = judgedThrough(events, o.runId);
        if (through !== undefined && through > (this.judged ?? 0)) this.judged = through;
        if (this.pending) return;
        const command = acceptStop(events, o.runId, o.obeyed);
        if (!command) return;
        this.pending = command;
        this.received = this.step;
      },
    });
  }

  start(): Promise<void> {
    return this.consumer.start();
  }

  stopRequested(): StopRun | undefined {
    return this.pending;
  }

  receivedAtStep(): number | undefined {
    return this.received;
  }

  noteStep(step: number): void {
    this.step = step;
  }

  judgedThrough(): number | undefined {
    return this.judged;
  }

  stop(): Promise<void> {
    return this.consumer.stop();
  }
}

/** How long stop() waits for the worker to leave its group before terminating it. */
const CLOSE_TIMEOUT_MS = 15_000;

class WorkerCommandListener implements CommandListener {
  private pending: StopRun | undefined;
  private received: number | undefined;
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private readonly step = new Int32Array(new SharedArrayBuffer(4));
  private readonly judged = new Int32Array(new SharedArrayBuffer(4));
  private readonly log: (line: string) => void;
  private ready: Promise<void>;
  private closed: Promise<void>;
  private failure: Error | undefined;

  constructor(kafka: NonNullable<ReturnType<KafkaBus['portableOptions']>>, o: ListenOptions) {
    this.log = o.log ?? ((l: string) => console.error(l));
    Atomics.store(this.step, 0, -1);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const data: ControlWorkerData = { kafka, runId: o.runId, obeyed: [...o.obeyed], port: port2, step: this.step, judged: this.judged };
    let ready!: () => void;
    let failed!: (err: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => ((ready = resolve), (failed = reject)));
    this.ready.catch(() => {}); // awaited in start()
    let closed!: () => void;
    this.closed = new Promise<void>((resolve) => (closed = resolve));
    this.worker = new Worker(tsWorkerSource(new URL('./control-worker.ts', import.meta.url)), { workerData: data, transferList: [port2] });
    this.worker.unref();
    this.worker.on('error', (err) => {
      this.failure = err;
      failed(new Error(`the command listener's worker failed: ${err.message}`));
      closed();
    });
    this.worker.on('exit', () => closed());
    // Messages are taken synchronously in stopRequested() (receiveMessageOnPort); until the
    // listener is ready they come through the event loop.
    const onMessage = (m: ControlMessage) => {
      if (this.handle(m) === 'ready') ready();
      if (m.kind === 'failed') failed(new Error(`the command listener could not start: ${m.message}`));
      if (m.kind === 'closed') closed();
    };
    this.port.on('message', onMessage);
    void this.ready.then(
      () => this.port.off('message', onMessage),
      () => this.port.off('message', onMessage),
    );
  }

  private handle(m: ControlMessage): ControlMessage['kind'] {
    if (m.kind === 'log') this.log(m.line);
    if (m.kind === 'stop' && !this.pending) {
      this.pending = m.command;
      this.received = m.receivedAtStep;
    }
    return m.kind;
  }

  async start(): Promise<void> {
    await this.ready;
  }

  stopRequested(): StopRun | undefined {
    // Everything the worker posted since the last boundary, without an event-loop turn.
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) this.handle(m.message as ControlMessage);
    return this.pending;
  }

  receivedAtStep(): number | undefined {
    return this.received;
  }

  noteStep(step: number): void {
    Atomics.store(this.step, 0, step);
  }

  judgedThrough(): number | undefined {
    const judged = Atomics.load(this.judged, 0);
    return judged > 0 ? judged : undefined;
  }

  async stop(): Promise<void> {
    if (!this.failure) {
      this.port.on('message', (m: ControlMessage) => {
        this.handle(m);
        if (m.kind === 'closed') void this.worker.terminate();
      });
      this.port.postMessage({ kind: 'close' } satisfies ControlRequest);
      const timer = setTimeout(() => void this.worker.terminate(), CLOSE_TIMEOUT_MS);
      await this.closed;
      clearTimeout(timer);
    }
    this.port.close();
  }
}
