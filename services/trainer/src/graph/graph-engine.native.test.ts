// The loop with its steps as one TensorFlow graph (graph-engine.ts) against the same loop stepping
// op by op: the same metrics step after step, no tensor leaked, the optimizer's state in the
// checkpoint (a resume goes on along the same trajectory), and a StopRun obeyed at the boundary.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnyEvent, StepMetrics } from '@grokstream/schemas';
import { stopRunCommand } from '@grokstream/schemas';
import { tf } from '../tf.ts';
import { useTestBackend } from '../testing-backend.ts';
import { modularTask } from '../tasks/modular.ts';
import { mlp, type MlpOptions } from '../models/mlp.ts';
import { BoundedEmitter } from '../emitter.ts';
import { trainLoop, type LoopOptions } from '../loop.ts';
import { latestCheckpoint, loadCheckpoint } from '../checkpoint.ts';
import { graphEngine, graphEngineProblem } from './graph-engine.ts';
import { deepLinearTask } from '../tasks/deep-linear.ts';
import { deepLinear } from '../models/deep-linear.ts';

beforeAll(async () => {
  await useTestBackend();
});

const SHAPE: MlpOptions = { inputDim: 22, outputDim: 11, hidden: [24], activation: 'relu', bias: true, initScale: 1, seed: 2 };
const OPTIMIZER = { kind: 'adamw', momentum: 0, nesterov: false, beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0.5 } as const;

/** graph: 'step' the graph steps and the loop measures op by op; 'measuring' the graph measures too. */
function setup(events: AnyEvent[], graph: boolean | 'measuring', overrides: Partial<LoopOptions> = {}): LoopOptions {
  const task = modularTask({ op: 'add', p: 11, trainFraction: 0.6, encoding: 'pair', seed: 1 });
  const model = mlp(SHAPE);
  return {
    runId: 'graph-loop',
    task,
    model,
    optimizer: OPTIMIZER,
    schedule: { lr: 1e-2, warmupSteps: 5, decay: 'none', totalSteps: 30, minLr: 0, stepSize: 1, gamma: 1 },
    steps: 30,
    evalEvery: 1,
    batchSize: 32,
    seeds: { data: 1, init: 2, order: 3 },
    probeEvery: 0,
    ...(graph ? { engine: (opt, initial) => graphEngine(model, SHAPE, OPTIMIZER, opt, graph === 'measuring' ? { task, ...(initial ? { initial } : {}) } : {}) } : {}),
    emitter: new BoundedEmitter(async (e) => void events.push(...e), { capacity: 1000, outageLimitMs: 60_000, log: () => {} }),
    checkpoint: { dir: mkdtempSync(join(tmpdir(), 'grokstream-graph-ckpt-')), every: 0 },
    started: { config_json: '{}', task: 'modular', backend: 'tensorflow', grokstream_version: 'test', tags: {} },
    log: () => {},
    ...overrides,
  };
}

const steps = (events: AnyEvent[]) => events.filter((e) => e.name === 'StepMetrics').map((e) => e.value as StepMetrics);
const close = (a: number | null, b: number | null, rel = 1e-4) => a !== null && b !== null && Math.abs(a - b) <= rel * Math.max(1e-6, Math.abs(b));

describe('trainLoop with the graph engine', () => {
  for (const graph of [true, 'measuring'] as const) {
    it(`measures every step as the eager loop does, and leaks no tensor (${graph === 'measuring' ? 'measured in the step\'s graph' : 'measured op by op'})`, async () => {
      // Evaluation every 3rd step: the test figures are null in between, either way.
      const eager: AnyEvent[] = [];
      await trainLoop(setup(eager, false, { evalEvery: 3 }));
      const events: AnyEvent[] = [];
      const o = setup(events, graph, { evalEvery: 3 });
      const before = tf.memory().numTensors;
      const result = await trainLoop(o);
      expect(tf.memory().numTensors).toBe(before);
      expect(result).toMatchObject({ reason: 'completed', step: 30 });
      const [e, g] = [steps(eager), steps(events)];
      expect(g.map((m) => m.step)).toEqual(e.map((m) => m.step));
      g.forEach((m, i) => {
        const r = e[i]!;
        const at = `step ${m.step}`;
        expect(close(m.train_loss, r.train_loss), `${at} train loss ${m.train_loss} vs ${r.train_loss}`).toBe(true);
        expect(m.test_loss === null, `${at} test loss null`).toBe(r.test_loss === null);
        expect(m.test_loss === null || close(m.test_loss, r.test_loss), `${at} test loss`).toBe(true);
        expect(m.test_acc === null || close(m.test_acc, r.test_acc, 1e-6), `${at} test acc ${m.test_acc} vs ${r.test_acc}`).toBe(true);
        expect(m.test_acc === null).toBe(r.test_acc === null);
        expect(close(m.grad_norm_sq, r.grad_norm_sq, 1e-3), `${at} ‖g‖²`).toBe(true);
        expect(close(m.update_norm, r.update_norm, 1e-3), `${at} update`).toBe(true);
        expect(close(m.weight_norm, r.weight_norm), `${at} ‖W‖`).toBe(true);
        m.layer_norms.forEach((n, l) => expect(close(n, r.layer_norms[l]!), `${at} ‖W_${l}‖`).toBe(true));
        expect(close(m.last_layer_norm, r.last_layer_norm), `${at} last layer ‖W‖`).toBe(true);
        expect(close(m.init_distance, r.init_distance, 1e-3), `${at} init distance ${m.init_distance} vs ${r.init_distance}`).toBe(true);
        expect(m.train_acc).toBe(r.train_acc);
        expect(m.softmax_collapse_frac).toBe(r.softmax_collapse_frac);
      });
      // The evaluation steps: every 3rd, and the last.
      expect(g.filter((m) => m.test_loss !== null).map((m) => m.step)).toEqual([3, 6, 9, 12, 15, 18, 21, 24, 27, 30]);
    });
  }

  it('checkpoints the optimizer state it keeps: a resume (eager or graph) goes on along the same trajectory', async () => {
    const straight: AnyEvent[] = [];
    await trainLoop(setup(straight, 'measuring'));
    const first: AnyEvent[] = [];
    const base = setup(first, 'measuring', { steps: 15 });
    await trainLoop(base);
    const ckpt = loadCheckpoint(latestCheckpoint(base.checkpoint.dir, 'graph-loop')!);
    expect(ckpt.state.step).toBe(15);
    expect(ckpt.state.optimizerUpdates).toBe(15);
    for (const graph of [false, 'measuring'] as const) {
      const second: AnyEvent[] = [];
      await trainLoop({ ...setup(second, graph), resume: ckpt, checkpoint: base.checkpoint });
      const resumed = steps(second);
      expect(resumed.map((s) => s.step)).toEqual(Array.from({ length: 15 }, (_, i) => i + 16));
      const reference = steps(straight).slice(15);
      resumed.forEach((s, i) => expect(close(s.train_loss, reference[i]!.train_loss, 1e-3), `${graph ? "graph" : "eager"} resume, step ${s.step}: ${s.train_loss} vs ${reference[i]!.train_loss}`).toBe(true));
      // A resumed run has no initial weights: no distance from them, measured either way.
      expect(resumed.every((s) => s.init_distance === null)).toBe(true);
    }
  });

  it('obeys a StopRun at the next step boundary', async () => {
    const events: AnyEvent[] = [];
    let seen = 0;
    const stop = stopRunCommand({ runId: 'graph-loop', policy: 'test', reason: 'enough', issuedBy: 'spec', step: 7 });
    const result = await trainLoop(setup(events, true, { stopRequested: () => (seen >= 7 ? stop : undefined), onStep: (m) => (seen = m.step) }));
    expect(result).toMatchObject({ reason: 'early_stopped', step: 7, commandId: stop.command_id });
    expect(steps(events).at(-1)!.step).toBe(7);
  });

  it('cancels the step a StopRun came in during: its new weights are dropped, the run ends at the step before', async () => {
    const stop = stopRunCommand({ runId: 'graph-loop', policy: 'test', reason: 'enough', issuedBy: 'spec', step: 7 });
    // The loop asks at each step boundary and once more after the graph ran (before committing):
    // calls 2k-1 and 2k for step k. The 16th call is step 8's, after its graph ran.
    let calls = 0;
    const logs: string[] = [];
    const cancelled: AnyEvent[] = [];
    const late = setup(cancelled, true, { stopRequested: () => (++calls >= 16 ? stop : undefined), log: (l) => logs.push(l) });
    const result = await trainLoop(late);
    expect(result).toMatchObject({ reason: 'early_stopped', step: 7, commandId: stop.command_id });
    expect(steps(cancelled).at(-1)!.step).toBe(7);
    expect(logs.join('\n')).toMatch(/step 8 cancelled before its update/);
    // The weights and the optimizer's state kept are those after step 7, as a stop at the boundary leaves them.
    const boundary: AnyEvent[] = [];
    let seen = 0;
    const atBoundary = setup(boundary, true, { stopRequested: () => (seen >= 7 ? stop : undefined), onStep: (m) => (seen = m.step) });
    await trainLoop(atBoundary);
    const a = loadCheckpoint(latestCheckpoint(late.checkpoint.dir, 'graph-loop')!);
    const b = loadCheckpoint(latestCheckpoint(atBoundary.checkpoint.dir, 'graph-loop')!);
    expect(a.state).toMatchObject({ step: 7, optimizerUpdates: 7 });
    expect(a.data.map((t) => Array.from(t))).toEqual(b.data.map((t) => Array.from(t)));
  });

  it('is chosen only where a graph computes what the op-by-op step does: native, an MLP, a cross-entropy task', () => {
    const task = modularTask({ op: 'add', p: 11, trainFraction: 0.6, encoding: 'pair', seed: 1 });
    const model = mlp(SHAPE);
    expect(graphEngineProblem('tensorflow', model, SHAPE, task)).toBeUndefined();
    expect(graphEngineProblem('wasm', model, SHAPE, task)).toBe('the wasm backend steps op by op');
    // An MLP on a regression task: squared error, not the graph's cross-entropy.
    const regression = deepLinearTask({ inputDim: 4, outputDim: 3, teacher: 'random', teacherScale: 1, nTrain: 16, nTest: 8, online: false, noiseStd: 0, seed: 1 });
    expect(graphEngineProblem('tensorflow', model, SHAPE, regression)).toMatch(/cross-entropy loss only \(the regression task/);
    const linear = deepLinear({ inputDim: 4, outputDim: 3, depth: 2, width: 4, gamma: 1, seed: 1 });
    expect(graphEngineProblem('tensorflow', linear, undefined, regression)).toMatch(/has no graph step \(the MLP has\)/);
    for (const t of [task, regression]) t.dispose();
    model.dispose();
    linear.dispose();
  });
});
