// The loop on a tiny modular task, on the cpu backend: events, ordering, stop, resume.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnyEvent, StepMetrics, StopRun } from '@grokstream/schemas';
import { tf } from './tf.ts';
import { modularTask } from './tasks/modular.ts';
import { mlp } from './models/mlp.ts';
import { BoundedEmitter } from './emitter.ts';
import { trainLoop, type LoopOptions } from './loop.ts';
import { latestCheckpoint, loadCheckpoint } from './checkpoint.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

function setup(events: AnyEvent[], overrides: Partial<LoopOptions> = {}): LoopOptions {
  const task = modularTask({ op: 'add', p: 7, trainFraction: 0.6, encoding: 'pair', seed: 1 });
  const model = mlp({ inputDim: 14, outputDim: 7, hidden: [16], activation: 'relu', bias: true, initScale: 1, seed: 2 });
  return {
    runId: 'loop-test',
    task,
    model,
    optimizer: { kind: 'adamw', momentum: 0, nesterov: false, beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0.1 },
    schedule: { lr: 1e-2, warmupSteps: 0, decay: 'none', totalSteps: 20, minLr: 0, stepSize: 1, gamma: 1 },
    steps: 20,
    evalEvery: 1,
    batchSize: 'full',
    seeds: { data: 1, init: 2, order: 3 },
    probeEvery: 0,
    emitter: new BoundedEmitter(async (e) => void events.push(...e), 1000, () => {}),
    checkpoint: { dir: mkdtempSync(join(tmpdir(), 'grokstream-ckpt-')), every: 0 },
    started: { config_json: '{}', task: 'modular', backend: 'cpu', grokstream_version: 'test', tags: {} },
    log: () => {},
    ...overrides,
  };
}

const steps = (events: AnyEvent[]) => events.filter((e) => e.name === 'StepMetrics').map((e) => e.value as StepMetrics);

describe('trainLoop', () => {
  it('emits RunStarted, a StepMetrics per step, a checkpoint and RunFinished, with seq 0..n-1', async () => {
    const events: AnyEvent[] = [];
    const o = setup(events);
    const tensorsBefore = tf.memory().numTensors;
    const result = await trainLoop(o);
    // Nothing leaks per step: only the model and data (created before) remain.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(result).toMatchObject({ reason: 'completed', step: 20 });
    expect(events[0]!.name).toBe('RunStarted');
    expect(events.at(-1)!.name).toBe('RunFinished');
    expect(events.at(-2)!.name).toBe('Checkpointed');
    expect(steps(events).map((s) => s.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(events.map((e) => e.value.seq)).toEqual(events.map((_, i) => i));
    const first = steps(events)[0]!;
    expect(first.train_acc).not.toBeNull();
    expect(first.test_acc).not.toBeNull();
    expect(first.layer_norms).toHaveLength(4);
    expect(first.weight_norm).toBeCloseTo(Math.sqrt(first.layer_norms.reduce((a, n) => a + n * n, 0)), 5);
    expect(first.init_distance).toBeGreaterThan(0);
    // Training does something: the loss falls.
    expect(steps(events).at(-1)!.train_loss).toBeLessThan(first.train_loss);
  });

  it('stops at the step boundary after a StopRun and records the command', async () => {
    const events: AnyEvent[] = [];
    let pending: StopRun | undefined;
    const o = setup(events, {
      stopRequested: () => pending,
      onStep: (m) => {
        if (m.step === 5) {
          pending = {
            event_id: 'e',
            run_id: 'loop-test',
            seq: 0,
            ts: 0,
            command_id: 'cmd-1',
            policy: 'manual',
            reason: 'test',
            step: 5,
            evidence: { window_start: 5, window_end: 5, values: {}, thresholds: {} },
            issued_by: 'spec',
          };
        }
      },
    });
    const result = await trainLoop(o);
    expect(result).toMatchObject({ reason: 'early_stopped', step: 5, commandId: 'cmd-1' });
    expect(steps(events).at(-1)!.step).toBe(5);
    expect(events.at(-1)!.value).toMatchObject({ reason: 'early_stopped', command_id: 'cmd-1', step: 5 });
  });

  it('resumes from a checkpoint with continuous steps and seq, and the same trajectory', async () => {
    const straight: AnyEvent[] = [];
    await trainLoop(setup(straight));
    const first: AnyEvent[] = [];
    const base = setup(first, { steps: 10 });
    await trainLoop(base);
    const ckpt = loadCheckpoint(latestCheckpoint(base.checkpoint.dir, 'loop-test')!);
    expect(ckpt.state.step).toBe(10);
    const second: AnyEvent[] = [];
    // A fresh model (different init) restored from the checkpoint must continue identically.
    await trainLoop({ ...setup(second), resume: ckpt, checkpoint: base.checkpoint });
    expect(second[0]!.value).toMatchObject({ resumed_from_step: 10 });
    expect(second[0]!.value.seq).toBe(first.at(-1)!.value.seq + 1);
    const resumedSteps = steps(second);
    expect(resumedSteps.map((s) => s.step)).toEqual(Array.from({ length: 10 }, (_, i) => i + 11));
    const reference = steps(straight).slice(10);
    resumedSteps.forEach((s, i) => expect(s.train_loss).toBeCloseTo(reference[i]!.train_loss, 4));
  });
});
