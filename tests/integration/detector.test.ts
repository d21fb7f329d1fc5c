// The detector on the real broker: it stops a real trainer through Kafka (converged policy), and
// replaying the run's stored events reproduces exactly the live PhaseChanged/StopRun sequence.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec, TOPICS, type AnyEvent } from '@grokstream/schemas';
import { KafkaBus, readAll, standardTopics, waitUntil } from '@grokstream/bus';
import { DetectorService, detectorOptions, parseDetectorConfig, replayEvents, type DetectorOutput } from '@grokstream/detector';
import { KAFKA_BROKERS, requireKafka } from './services.ts';

describe('detector on Kafka', () => {
  const codec = EventCodec.load();
  const name = `it-detector-${randomUUID().slice(0, 8)}`;
  const options = detectorOptions(
    parseDetectorConfig({ detector: { name, version: '1' }, policies: [{ kind: 'divergence' }, { kind: 'converged', steps: 100 }] }, 'test'),
  );
  let bus: KafkaBus;
  let service: DetectorService;
  const live: DetectorOutput[] = [];

  beforeAll(async () => {
    await requireKafka();
    bus = new KafkaBus({ brokers: KAFKA_BROKERS, logLevel: 'nothing' });
    await bus.ensureTopics(standardTopics(4));
    service = new DetectorService({ ...options, bus, codec, onOutput: (o) => live.push(o) });
    await service.start();
  });

  afterAll(async () => {
    await service?.stop();
    await bus?.close();
  });

  it('stops a grokking trainer once converged, and a replay gives the same verdicts', async () => {
    const child = spawn(
      process.execPath,
      [
        'services/cli/bin/grokstream.js',
        'run',
        'examples/modular-addition-grokking.yaml',
        'run.steps=3000',
        'probes.every=0',
        `run.checkpoint.dir=${mkdtempSync(join(tmpdir(), 'grokstream-detector-'))}`,
        '--kafka',
        KAFKA_BROKERS.join(','),
        '--quiet',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code, out.slice(-2000)).toBe(0);
    const m = /run (\S+): early_stopped at step (\d+) \(command (\S+)\)/.exec(out);
    expect(m, out.slice(-2000)).not.toBeNull();
    const [, runId, stoppedAt, commandId] = m!;
    const mine = () => live.filter((o) => o.value.run_id === runId);
    await waitUntil(() => mine().some((o) => o.name === 'StopRun'), 'the live StopRun', 30_000);
    const stop = mine().find((o) => o.name === 'StopRun')!;
    expect(stop.value).toMatchObject({ command_id: commandId, policy: 'converged' });
    expect(Number(stoppedAt)).toBeLessThan(3000);
    expect(mine().filter((o) => o.name === 'PhaseChanged').map((o) => (o.value as { phase: string }).phase)).toEqual(
      expect.arrayContaining(['MEMORIZATION', 'GROKKING', 'CONVERGED']),
    );

    // Replay the run's events from the topic with the same configuration.
    const events: AnyEvent[] = [];
    for (const msg of await readAll(bus, [TOPICS.events])) {
      const e = codec.decode(msg.value);
      if (e.value.run_id === runId) events.push({ name: e.name, value: e.value } as AnyEvent);
    }
    await waitUntil(async () => (await replayEvents(events, options)).length === mine().length, 'live outputs for every replayed one', 30_000);
    const replayed = await replayEvents(events, options);
    expect(replayed).toEqual(mine());
    // And what is on the topics is exactly that too.
    const onTopics: DetectorOutput[] = [];
    for (const msg of await readAll(bus, [TOPICS.phases, TOPICS.control])) {
      const e = codec.decode(msg.value);
      if (e.value.run_id !== runId) continue;
      if (e.name === 'PhaseChanged' && e.value.detector === name) onTopics.push({ name: e.name, value: e.value });
      if (e.name === 'StopRun' && e.value.issued_by === `${name} 1`) onTopics.push({ name: e.name, value: e.value });
    }
    const key = (o: DetectorOutput) => o.value.event_id;
    expect(onTopics.map(key).sort()).toEqual(replayed.map(key).sort());
    console.log(`detector: ${runId} stopped at step ${stoppedAt} by ${stop.value.policy}; ${replayed.length} outputs replayed identically`);
  });
});
