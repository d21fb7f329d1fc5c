// The trainer's command listener on the real broker. A training step is one synchronous block, so
// a consumer on the main thread reads a StopRun only between steps; the listener's consumer runs
// in a worker thread and hands the command over at the very next boundary. Shown here with a main
// thread that never yields: it polls stopRequested() in a synchronous loop.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec, TOPICS, detectorProgress, stopRunCommand } from '@grokstream/schemas';
import { EventPublisher, KafkaBus, standardTopics, type Producer } from '@grokstream/bus';
import { listenForCommands } from '../../services/trainer/src/control.ts';
import { KAFKA_BROKERS, requireKafka } from './services.ts';

const codec = EventCodec.load();

/** Polls `f` in a synchronous loop (no event-loop turn) for up to `ms`; the first defined value. */
function busyPoll<T>(f: () => T | undefined, ms: number): { value: T | undefined; waitedMs: number } {
  const t0 = performance.now();
  for (;;) {
    const value = f();
    const waitedMs = performance.now() - t0;
    if (value !== undefined || waitedMs > ms) return { value, waitedMs };
  }
}

describe('command listener on Kafka', () => {
  let bus: KafkaBus;
  let producer: Producer;
  let publisher: EventPublisher;

  beforeAll(async () => {
    await requireKafka();
    bus = new KafkaBus({ brokers: KAFKA_BROKERS, logLevel: 'nothing' });
    await bus.ensureTopics(standardTopics(4));
    producer = await bus.producer();
    publisher = new EventPublisher(producer, codec);
  });

  afterAll(async () => {
    await producer?.close();
    await bus?.close();
  });

  const stop = (runId: string, reason: string) => ({ name: 'StopRun' as const, value: stopRunCommand({ runId, policy: 'manual', reason, issuedBy: 'command-listener.test', step: 7 }) });

  it('in a worker thread: a StopRun published while the main thread is busy is taken at the next boundary, once; others and obeyed ones are ignored', async () => {
    const runId = `listener-${randomUUID().slice(0, 8)}`;
    const obeyedBefore = stop(runId, 'obeyed before a resume');
    const log: string[] = [];
    const listener = listenForCommands({ bus, codec, deadLetters: producer, runId, obeyed: new Set([obeyedBefore.value.command_id]), log: (l) => log.push(l) });
    await listener.start();
    listener.noteStep(41);
    await publisher.publish(TOPICS.control, [stop(`other-${runId}`, 'another run'), obeyedBefore, stop(runId, 'the one')]);
    // From here the main thread never yields until the command is in hand.
    const { value, waitedMs } = busyPoll(() => listener.stopRequested(), 10_000);
    expect(value, `no StopRun within ${waitedMs.toFixed(0)} ms of a busy main thread; log: ${log.join(' | ')}`).toBeDefined();
    expect(value!.reason).toBe('the one');
    expect(listener.receivedAtStep()).toBe(41);
    console.log(`worker listener: StopRun in hand ${waitedMs.toFixed(1)} ms after the publish returned, the main thread busy throughout`);
    // A second command for the run does not replace the first.
    await publisher.publish(TOPICS.control, [stop(runId, 'a later one')]);
    busyPoll(() => undefined, 1_000);
    expect(listener.stopRequested()!.reason).toBe('the one');
    await listener.stop();
  });

  for (const where of ['worker', 'here'] as const) {
    it(`${where === 'worker' ? 'in a worker thread' : 'on the main thread'}: a detector's progress for the run is the stop gate's judged step; a StopRun before it is in hand by then`, async () => {
      const runId = `listener-progress-${where}-${randomUUID().slice(0, 8)}`;
      const listener = listenForCommands({ bus, codec, deadLetters: producer, runId, obeyed: new Set(), where });
      await listener.start();
      expect(listener.judgedThrough()).toBeUndefined();
      const progress = (run: string, step: number) => ({ name: 'DetectorProgress' as const, value: detectorProgress({ runId: run, step, issuedBy: 'command-listener.test' }) });
      // As a detector publishes them: the StopRun of step 7, then the progress through 7; another run's is ignored.
      await publisher.publish(TOPICS.control, [progress(runId, 5), progress(`other-${runId}`, 99), stop(runId, 'at 7'), progress(runId, 7), progress(runId, 6)]);
      const t0 = Date.now();
      while ((listener.judgedThrough() ?? 0) < 7 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 2));
      expect(listener.judgedThrough()).toBe(7);
      expect(listener.stopRequested()?.reason).toBe('at 7');
      await listener.stop();
    });
  }

  it('on the main thread (where: here) the same command waits for the event loop: why the worker exists', async () => {
    const runId = `listener-here-${randomUUID().slice(0, 8)}`;
    const listener = listenForCommands({ bus, codec, deadLetters: producer, runId, obeyed: new Set(), where: 'here' });
    await listener.start();
    await publisher.publish(TOPICS.control, [stop(runId, 'the one')]);
    expect(busyPoll(() => listener.stopRequested(), 2_000).value).toBeUndefined();
    // Given event-loop turns, it arrives.
    const t0 = Date.now();
    while (!listener.stopRequested() && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 10));
    expect(listener.stopRequested()?.reason).toBe('the one');
    await listener.stop();
  });

  it('a worker that cannot reach Kafka fails start() with the reason', async () => {
    const unreachable = new KafkaBus({ brokers: ['127.0.0.1:1'], logLevel: 'nothing', connectionTimeoutMs: 500, requestTimeoutMs: 1_000, joinTimeoutMs: 3_000 });
    const listener = listenForCommands({ bus: unreachable, codec, deadLetters: producer, runId: 'nowhere', obeyed: new Set() });
    await expect(listener.start()).rejects.toThrow(/command listener could not start: .*127\.0\.0\.1:1/);
    await listener.stop();
    await unreachable.close();
  }, 60_000);
});
