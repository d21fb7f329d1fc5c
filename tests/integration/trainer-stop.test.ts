// Acceptance of the trainer on the real broker: the modular-addition example runs past step 500,
// a StopRun is published mid-run, the trainer stops within one step of receiving it, and every
// event up to the stop is on the topic, in order, with no gap in seq.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec, TOPICS, stopRunCommand, type RunFinished, type StepMetrics } from '@grokstream/schemas';
import { EventPublisher, KafkaBus, eventConsumer, standardTopics, type Consumer, type Producer, type ReceivedEvent } from '@grokstream/bus';
import { waitUntil } from '../../services/bus/src/wait.ts';
import { KAFKA_BROKERS, requireKafka } from './services.ts';

describe('trainer on Kafka obeys StopRun', () => {
  const codec = EventCodec.load();
  let bus: KafkaBus;
  let producer: Producer;
  let watcher: Consumer;
  const events: ReceivedEvent[] = [];

  beforeAll(async () => {
    await requireKafka();
    bus = new KafkaBus({ brokers: KAFKA_BROKERS, logLevel: 'nothing' });
    await bus.ensureTopics(standardTopics(4));
    producer = await bus.producer();
    watcher = eventConsumer(bus, {
      groupId: `trainer-stop-watch-${randomUUID()}`,
      topics: [TOPICS.events],
      codec,
      deadLetters: producer,
      handle: async (batch) => void events.push(...batch),
    });
    await watcher.start();
  });

  afterAll(async () => {
    await watcher?.stop();
    await producer?.close();
    await bus?.close();
  });

  it('stops within one step and leaves a gap-free, ordered event log', async () => {
    const checkpoints = mkdtempSync(join(tmpdir(), 'grokstream-stop-'));
    const child = spawn(
      process.execPath,
      [
        'services/cli/bin/grokstream.js',
        'run',
        'examples/modular-addition-grokking.yaml',
        'run.steps=3000',
        'probes.every=0',
        `run.checkpoint.dir=${checkpoints}`,
        '--kafka',
        KAFKA_BROKERS.join(','),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitUntil(() => /run (\S+): \(a \+ b\)/.test(out), 'the trainer to start', 120_000);
      const runId = /run (\S+): \(a \+ b\)/.exec(out)![1]!;
      const mine = () => events.filter((e) => e.value.run_id === runId);
      const lastStep = () => Math.max(0, ...mine().filter((e) => e.name === 'StepMetrics').map((e) => (e.value as StepMetrics).step));
      await waitUntil(() => lastStep() >= 500, 'step 500 on the topic', 180_000).catch((err) => {
        throw new Error(`${(err as Error).message}; ${mine().length} events of this run seen (${events.length} in all, run ${runId}); trainer output:\n${out.slice(-2000)}`);
      });
      const publishedAt = lastStep();
      const command = stopRunCommand({ runId, policy: 'manual', reason: 'acceptance test', issuedBy: 'trainer-stop.test', step: publishedAt });
      const commandId = command.command_id;
      await new EventPublisher(producer, codec).publish(TOPICS.control, [{ name: 'StopRun', value: command }]);
      expect(await exited).toBe(0);
      await waitUntil(() => mine().some((e) => e.name === 'RunFinished'), 'RunFinished on the topic', 60_000);

      const log = mine();
      // In order with no gap: seq 0, 1, 2, ... and steps 1, 2, 3, ... up to the stop.
      expect(log.map((e) => e.value.seq)).toEqual(log.map((_, i) => i));
      expect(new Set(log.map((e) => e.partition)).size).toBe(1);
      const steps = log.filter((e) => e.name === 'StepMetrics').map((e) => (e.value as StepMetrics).step);
      expect(steps).toEqual(steps.map((_, i) => i + 1));
      expect(log[0]!.name).toBe('RunStarted');
      const finished = log.at(-1)!.value as RunFinished;
      expect(log.at(-1)!.name).toBe('RunFinished');
      expect(finished).toMatchObject({ reason: 'early_stopped', command_id: commandId });
      expect(finished.step).toBe(steps.at(-1));
      expect(finished.step).toBeGreaterThanOrEqual(500);
      // Within one step of the command reaching the trainer.
      const receivedAt = finished.summary.stop_received_at_step!;
      expect(receivedAt).toBeGreaterThanOrEqual(publishedAt);
      expect(finished.step - receivedAt).toBeLessThanOrEqual(1);
      expect(log.some((e) => e.name === 'Checkpointed')).toBe(true);
      console.log(`stop: published after step ${publishedAt}, received at ${receivedAt}, stopped at ${finished.step}`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
