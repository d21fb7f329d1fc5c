// The trainer's ear on the command stream: StopRun commands for its run, each obeyed once
// (command_id), checked at step boundaries.
import { randomUUID } from 'node:crypto';
import { TOPICS, type EventCodec, type StopRun } from '@grokstream/schemas';
import { eventConsumer, type Bus, type Consumer, type Producer } from '@grokstream/bus';

export class ControlListener {
  private pending: StopRun | undefined;
  private received: number | undefined;
  private readonly consumer: Consumer;

  constructor(
    bus: Bus,
    codec: EventCodec,
    deadLetters: Producer,
    private readonly runId: string,
    private readonly obeyed: ReadonlySet<string>,
    /** The trainer's last completed step, recorded when a command arrives. */
    private readonly currentStep: () => number = () => -1,
    log: (line: string) => void = (l) => console.error(l),
  ) {
    this.consumer = eventConsumer(bus, {
      // A private group per trainer process: every trainer sees every command.
      groupId: `grokstream-trainer-${runId}-${randomUUID().slice(0, 8)}`,
      topics: [TOPICS.control],
      fromBeginning: true,
      codec,
      deadLetters,
      // A new group every time: there are no letters of its own to read back.
      seedFromDeadLetters: false,
      log,
      // kafkajs restarts the consumer by itself after a broker outage; say so once, quietly.
      onCrash: (err, restart) =>
        log(restart ? `control: the command consumer lost Kafka (${err.message}); it reconnects by itself` : `control: the command consumer stopped: ${err.message}`),
      handle: async (events) => {
        for (const e of events) {
          if (e.name !== 'StopRun' || e.value.run_id !== this.runId) continue;
          if (this.obeyed.has(e.value.command_id) || this.pending) continue;
          this.pending = e.value;
          this.received = this.currentStep();
        }
      },
    });
  }

  start(): Promise<void> {
    return this.consumer.start();
  }

  /** The StopRun to obey at this step boundary, if one arrived. */
  stopRequested(): StopRun | undefined {
    return this.pending;
  }

  /** The trainer's last completed step when the StopRun arrived. */
  receivedAtStep(): number | undefined {
    return this.received;
  }

  stop(): Promise<void> {
    return this.consumer.stop();
  }
}
