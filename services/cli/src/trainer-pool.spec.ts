// The sweep's trainer processes (trainer-pool.ts, sweep-trainer.ts) on this process's in-process
// bus: a job's events reach the bus here, a StopRun sent here stops the run there, and a trainer
// that dies fails its job and is replaced.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBus, EventPublisher, eventConsumer, standardTopics, type ReceivedEvent } from '@grokstream/bus';
import { EventCodec, TOPICS, stopRunCommand } from '@grokstream/schemas';
import { configJson, resolveConfig } from '@grokstream/trainer';
import { TrainerPool } from './trainer-pool.ts';

const dir = mkdtempSync(join(tmpdir(), 'grokstream-pool-'));
const codec = EventCodec.load();
const config = (name: string, steps: number) =>
  resolveConfig(
    { run: { name, steps, log_every: 10, seed: 1, checkpoint: { dir: join(dir, 'ckpt') } }, task: { kind: 'modular', p: 7, train_fraction: 0.6 }, model: { kind: 'mlp', hidden: [16] }, probes: { every: 0 } },
    [],
    'test',
  );
const job = (name: string, steps: number) => {
  const cfg = config(name, steps);
  return { cfg, runId: `${name}-run`, configJson: configJson(cfg), partitions: 1 };
};

describe('TrainerPool', () => {
  it('trains in a child process on this bus, obeys a StopRun sent here, and replaces a trainer that dies', async () => {
    const bus = new MemoryBus(1);
    await bus.ensureTopics(standardTopics(1));
    const seen: ReceivedEvent[] = [];
    const watch = eventConsumer(bus, { groupId: 'watch', topics: [TOPICS.events], fromBeginning: true, codec, deadLetters: await bus.producer(), handle: async (e) => void seen.push(...e) });
    await watch.start();
    const lines: string[] = [];
    const pool = new TrainerPool({ size: 1, bus, log: (l) => lines.push(l) });
    try {
      await pool.start();
      expect(pool.size).toBe(1);

      // A StopRun published here at step 20 stops the run there.
      const publisher = new EventPublisher(await bus.producer(), codec);
      let sent = false;
      const stopped = await pool.train(job('stopped', 5000), {
        onStep: (m) => {
          if (m.step >= 20 && !sent) {
            sent = true;
            void publisher.publish(TOPICS.control, [
              { name: 'StopRun', value: stopRunCommand({ runId: 'stopped-run', policy: 'test', reason: 'enough', issuedBy: 'trainer-pool.spec', step: m.step }) },
            ]);
          }
        },
      });
      expect(stopped.reason).toBe('early_stopped');
      expect(stopped.step).toBeGreaterThanOrEqual(20);
      expect(stopped.step).toBeLessThan(60);
      // Its events are on this bus, ending with its RunFinished.
      await new Promise((r) => setTimeout(r, 200));
      const mine = seen.filter((e) => e.value.run_id === 'stopped-run');
      expect(mine[0]!.name).toBe('RunStarted');
      expect(mine.at(-1)).toMatchObject({ name: 'RunFinished', value: { reason: 'early_stopped', step: stopped.step } });

      // A trainer killed mid-run: its job fails naming why; the next job trains on its replacement.
      const [pid] = pool.pids();
      const killed = pool.train(job('killed', 100_000), { onStep: (m) => void (m.step === 10 && process.kill(pid!, 'SIGKILL')) });
      await expect(killed).rejects.toThrow(/trainer process \d+ exited \(SIGKILL\).*while training killed-run/s);
      const after = await pool.train(job('after', 20));
      expect(after.reason).toBe('completed');
      expect(pool.pids()).not.toContain(pid);
    } finally {
      await pool.close();
      await watch.stop();
    }
  }, 120_000);
});
