// The loop on a tiny modular task, on the cpu backend: events, ordering, stop, resume.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnyEvent, ProbeSummary, StepMetrics, StopRun } from '@grokstream/schemas';
import { stopRunCommand } from '@grokstream/schemas';
import { tf } from './tf.ts';
import { useTestBackend } from './testing-backend.ts';
import { modularTask } from './tasks/modular.ts';
import { mlp } from './models/mlp.ts';
import { deepLinear } from './models/deep-linear.ts';
import { deepLinearTask } from './tasks/deep-linear.ts';
import { BoundedEmitter } from './emitter.ts';
import { trainLoop, type LoopOptions } from './loop.ts';
import { StopGate } from './stop-gate.ts';
import { latestCheckpoint, loadCheckpoint } from './checkpoint.ts';
import { createProbeState, readProbes } from './probes/index.ts';
import { InlineSummarizer, WorkerSummarizer, type GramSummarizer } from './probes/summarizer.ts';

beforeAll(async () => {
  await useTestBackend();
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
    emitter: new BoundedEmitter(async (e) => void events.push(...e), { capacity: 1000, outageLimitMs: 60_000, log: () => {} }),
    checkpoint: { dir: mkdtempSync(join(tmpdir(), 'grokstream-ckpt-')), every: 0 },
    started: { config_json: '{}', task: 'modular', backend: 'cpu', grokstream_version: 'test', tags: {} },
    log: () => {},
    ...overrides,
  };
}

const steps = (events: AnyEvent[]) => events.filter((e) => e.name === 'StepMetrics').map((e) => e.value as StepMetrics);

/** An emitter whose bus goes away after step 6 and never comes back within the outage limit. */
function busGoneAfterStep6(): { sent: AnyEvent[]; emitter: BoundedEmitter } {
  const sent: AnyEvent[] = [];
  let up = true;
  const emitter = new BoundedEmitter(
    async (e) => {
      if (!up) throw new Error('broker down');
      sent.push(...e);
      if (steps(sent).some((m) => m.step >= 6)) up = false;
    },
    { capacity: 1000, outageLimitMs: 30, retryInitialMs: 5, retryMaxMs: 5, maxBatch: 1, log: () => {} },
  );
  return { sent, emitter };
}

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

  it('switches the batch size at batch_switch.at_step (0-based), visible in the batch accuracy', async () => {
    const events: AnyEvent[] = [];
    const o = setup(events, { batchSize: 8, batchSwitch: { atStep: 10, batchSize: 'full' }, steps: 14 });
    await trainLoop(o);
    const nTrain = o.task.train.x.shape[0]; // 29 of the 49 pairs
    const isMultiple = (acc: number, n: number) => Math.abs(acc * n - Math.round(acc * n)) < 1e-4;
    const s = steps(events);
    // Updates 1..10 (t = 0..9) use batches of 8, from update 11 (t = 10) the whole set.
    expect(s.slice(0, 10).every((m) => isMultiple(m.train_acc!, 8))).toBe(true);
    expect(s.slice(10).every((m) => isMultiple(m.train_acc!, nTrain))).toBe(true);
    expect(s.slice(10).some((m) => !isMultiple(m.train_acc!, 8))).toBe(true);
  });

  it('reports deep-linear Gram norms, balance differences and the end-to-end norm', async () => {
    const events: AnyEvent[] = [];
    const task = deepLinearTask({ inputDim: 4, outputDim: 3, teacher: 'diagonal', teacherScale: 1, nTrain: 20, nTest: 5, online: false, noiseStd: 0, seed: 0 });
    const model = deepLinear({ inputDim: 4, outputDim: 3, depth: 2, width: 5, gamma: 0.5, seed: 1 });
    await trainLoop(setup(events, { task, model, steps: 2 }));
    const last = steps(events).at(-1)!;
    const [w1, w2] = model.params.map((p) => p.arraySync() as number[][]);
    const matmul = (a: number[][], b: number[][]) => a.map((r) => b[0]!.map((_, j) => r.reduce((acc, v, k) => acc + v * b[k]![j]!, 0)));
    const t = (a: number[][]) => a[0]!.map((_, j) => a.map((r) => r[j]!));
    const fro = (a: number[][]) => Math.sqrt(a.flat().reduce((acc, v) => acc + v * v, 0));
    const sub = (a: number[][], b: number[][]) => a.map((r, i) => r.map((v, j) => v - b[i]![j]!));
    expect(last.extra.gram_norm_1).toBeCloseTo(fro(matmul(t(w1!), w1!)), 4);
    expect(last.extra.balance_1_2).toBeCloseTo(fro(sub(matmul(t(w1!), w1!), matmul(w2!, t(w2!)))), 4);
    expect(last.extra.effective_weight_norm).toBeCloseTo(fro(matmul(w1!, w2!)), 4);
    expect(last.train_acc).toBeNull();
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

  it('a StopRun that comes in during a step cancels it before its update: the run ends at the last completed step', async () => {
    const command = {
      event_id: 'e',
      run_id: 'loop-test',
      seq: 0,
      ts: 0,
      command_id: 'cmd-late',
      policy: 'manual',
      reason: 'test',
      step: 2,
      evidence: { window_start: 2, window_end: 2, values: {}, thresholds: {} },
      issued_by: 'spec',
    } as StopRun;
    // The trainer asks twice a step: at the boundary and before the update. The 6th question is
    // step 3's second: the command arrived during step 3's forward and backward passes.
    let asked = 0;
    const events: AnyEvent[] = [];
    const o = setup(events, { stopRequested: () => (++asked >= 6 ? command : undefined) });
    const result = await trainLoop(o);
    expect(asked).toBe(6);
    expect(result).toMatchObject({ reason: 'early_stopped', step: 2, commandId: 'cmd-late' });
    expect(steps(events).map((m) => m.step)).toEqual([1, 2]);
    expect(events.at(-1)!.value).toMatchObject({ reason: 'early_stopped', command_id: 'cmd-late', step: 2 });
    // Step 3's update was never applied: the final checkpoint holds the weights of a 2-step run.
    const stopped = loadCheckpoint(latestCheckpoint(o.checkpoint.dir, 'loop-test')!);
    expect(stopped.state.step).toBe(2);
    expect(stopped.state.obeyedCommands).toEqual(['cmd-late']);
    const two = setup([], { steps: 2 });
    await trainLoop(two);
    const reference = loadCheckpoint(latestCheckpoint(two.checkpoint.dir, 'loop-test')!);
    expect(stopped.data.map((d) => [...d])).toEqual(reference.data.map((d) => [...d]));
  });

  it.each([
    ['inline', () => new InlineSummarizer()],
    ['in a worker thread', () => new WorkerSummarizer(20_000)],
  ])('probes summarized %s: each ProbeSummary right after its step, before the next step and the checkpoint', async (_where, make: () => GramSummarizer) => {
    const events: AnyEvent[] = [];
    const summarizer = make();
    const o = setup(events, { steps: 8, checkpoint: { dir: mkdtempSync(join(tmpdir(), 'grokstream-ckpt-')), every: 4 }, probeEvery: 2, summarizer });
    const state = createProbeState(1);
    const probeBatch = { x: o.task.train.x, y: o.task.train.y };
    o.probe = () => readProbes(o.model, o.task.perSampleLoss, probeBatch, state, { gop: { topK: 4 } });
    try {
      await trainLoop(o);
    } finally {
      await summarizer.close();
    }
    const seqs = events.map((e) => e.value.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i)); // emitted in seq order
    const named = events.map((e) => `${e.name}${'step' in e.value ? `@${(e.value as { step: number }).step}` : ''}`);
    expect(named.filter((n) => n.startsWith('ProbeSummary'))).toEqual(['ProbeSummary@2', 'ProbeSummary@4', 'ProbeSummary@6', 'ProbeSummary@8']);
    for (const t of [2, 4, 6, 8]) expect(named[named.indexOf(`ProbeSummary@${t}`) - 1]).toBe(`StepMetrics@${t}`);
    expect(named.indexOf('ProbeSummary@4')).toBeLessThan(named.findIndex((n) => n.startsWith('Checkpointed')));
    expect(named.at(-1)).toBe('RunFinished@8');
    const probes = events.filter((e) => e.name === 'ProbeSummary').map((e) => e.value as ProbeSummary);
    for (const p of probes) {
      expect(p.gop[0]!.scope).toBe('model');
      expect(p.gop[0]!.top_eigs[0]).toBeGreaterThan(0);
      expect(p.grad_noise_trace).toBeGreaterThan(0);
      expect(p.elapsed_ms).toBeGreaterThan(0);
    }
  }, 60_000);

  it('with a stop gate, a detector that judges slowly still stops the run within lag steps of the trigger', async () => {
    // The "detector" judges one step at a time, and only while the loop waits for it (each of the
    // gate's pauses); the StopRun for step 8 is out before step 8 counts as judged.
    const run = async (lag: number | undefined) => {
      const events: AnyEvent[] = [];
      let done = 0;
      let judged = 0;
      const stop = stopRunCommand({ runId: 'loop-test', policy: 'test', reason: 'trigger', issuedBy: 'spec', step: 8 });
      const gate =
        lag === undefined
          ? undefined
          : new StopGate({ lag, timeoutMs: 5000, judgedThrough: () => judged, log: () => {}, pause: async () => void (judged = Math.min(judged + 1, done)) });
      const result = await trainLoop(
        setup(events, { steps: 30, stopRequested: () => (judged >= 8 ? stop : undefined), onStep: (m) => (done = m.step), ...(gate ? { stopGate: gate } : {}) }),
      );
      return { result, finished: events.find((e) => e.name === 'RunFinished')!.value as { summary: Record<string, number> } };
    };
    for (const lag of [0, 1, 3]) {
      const { result, finished } = await run(lag);
      expect(result, `lag ${lag}`).toMatchObject({ reason: 'early_stopped', step: 8 + lag });
      expect(finished.summary.stop_gate_wait_ms, `lag ${lag}`).toBeGreaterThanOrEqual(0);
    }
    // Without the gate the verdicts never catch up with the steps: the run trains to its end.
    expect((await run(undefined)).result).toMatchObject({ reason: 'completed', step: 30 });
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

  it('handed off: checkpointed at the step boundary and flushed, not finished; a resume goes on to one RunFinished', async () => {
    const first: AnyEvent[] = [];
    const base = setup(first, { handOff: () => steps(first).length >= 8 });
    const result = await trainLoop(base);
    expect(result).toMatchObject({ reason: 'handed_off', step: 8, commandId: null });
    expect(first.some((e) => e.name === 'RunFinished')).toBe(false);
    expect(first.at(-1)).toMatchObject({ name: 'Checkpointed', value: { step: 8 } });
    const ckpt = loadCheckpoint(latestCheckpoint(base.checkpoint.dir, 'loop-test')!);
    expect(ckpt.state.step).toBe(8);
    const second: AnyEvent[] = [];
    await trainLoop({ ...setup(second), resume: ckpt, checkpoint: base.checkpoint });
    expect(steps(second).map((m) => m.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 9));
    expect([...first, ...second].filter((e) => e.name === 'RunFinished')).toHaveLength(1);
    // A StopRun pending at the same boundary wins: that run ends, finished.
    const stopped: AnyEvent[] = [];
    const stop = { command_id: 'c', policy: 'manual', reason: 'r', issued_by: 'test', step: 3 } as unknown as StopRun;
    const r2 = await trainLoop(setup(stopped, { handOff: () => true, stopRequested: () => stop }));
    expect(r2.reason).toBe('early_stopped');
    expect(stopped.some((e) => e.name === 'RunFinished')).toBe(true);
  });

  it('past the outage limit: checkpoints, hands back every unsent event, and a resume continues with nothing lost or repeated', async () => {
    const { sent, emitter } = busGoneAfterStep6();
    const base = setup([], { emitter, steps: 400 });
    const result = await trainLoop(base);
    expect(result.reason).toBe('bus_outage');
    expect(result.finished).toBe(false);
    expect(result.step).toBeLessThan(400);
    const unsent = result.unsent!;
    expect(unsent.at(-1)!.name).toBe('Checkpointed');
    const ckpt = loadCheckpoint(latestCheckpoint(base.checkpoint.dir, 'loop-test')!);
    expect(ckpt.state.step).toBe(result.step);

    const resumed: AnyEvent[] = [];
    await trainLoop({ ...setup(resumed, { steps: 400 }), resume: ckpt, checkpoint: base.checkpoint });
    const all = [...sent, ...unsent, ...resumed];
    // Every seq once, in order, and every step once: nothing lost, nothing repeated.
    expect(all.map((e) => e.value.seq)).toEqual(all.map((_, i) => i));
    expect(steps(all).map((m) => m.step)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect(all.at(-1)).toMatchObject({ name: 'RunFinished', value: { reason: 'completed', step: 400 } });
  });

  it('past the outage limit with probes on: the probe summary the bus no longer takes is said, not dropped silently', async () => {
    const { sent, emitter } = busGoneAfterStep6();
    const lines: string[] = [];
    const o = setup([], { emitter, steps: 400, probeEvery: 1, log: (l) => lines.push(l) });
    const state = createProbeState(1);
    o.probe = () => readProbes(o.model, o.task.perSampleLoss, { x: o.task.train.x, y: o.task.train.y }, state, { gop: { topK: 2 } });
    const result = await trainLoop(o);
    expect(result.reason).toBe('bus_outage');
    const said = lines.filter((l) => /^probes: the ProbeSummary of step \d+ is not sent \(the bus refused events past the outage limit\)$/.test(l));
    expect(said).toHaveLength(1);
    // Every probe step up to there has its summary among the events sent or handed back, but that one.
    const missing = Number(/step (\d+)/.exec(said[0]!)![1]);
    const probed = [...sent, ...result.unsent!].filter((e) => e.name === 'ProbeSummary').map((e) => (e.value as ProbeSummary).step);
    expect(probed).toEqual(Array.from({ length: result.step }, (_, i) => i + 1).filter((t) => t !== missing));
  });

  /** A run of 40 steps that crashed after step 25, with the checkpoint of step 20 on disk. */
  async function crashedAfterStep25() {
    const before: AnyEvent[] = [];
    const base = setup(before, { steps: 40, checkpoint: { dir: mkdtempSync(join(tmpdir(), 'grokstream-ckpt-')), every: 10 } });
    await trainLoop(base);
    const onLog = before.filter((e) => e.name !== 'RunFinished' && !('step' in e.value && (e.value as { step: number }).step > 25));
    const ckpt = loadCheckpoint(join(base.checkpoint.dir, 'loop-test', 'step-00000020'));
    return { base, onLog, ckpt, lastSeq: Math.max(...onLog.map((e) => e.value.seq)) };
  }

  it('after a crash, resumes after what the log holds: no seq names two facts, no step is sent twice', async () => {
    const { base, onLog, ckpt, lastSeq } = await crashedAfterStep25();
    const after: AnyEvent[] = [];
    await trainLoop({ ...setup(after, { steps: 40 }), checkpoint: base.checkpoint, resume: { ...ckpt, log: { lastSeq, lastStep: 25 } } });
    expect(after[0]).toMatchObject({ name: 'RunStarted', value: { seq: lastSeq + 1, resumed_from_step: 20 } });
    const all = [...onLog, ...after];
    expect(all.map((e) => e.value.seq)).toEqual(all.map((_, i) => i));
    expect(steps(all).map((m) => m.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('after a crash, a StopRun already waiting is obeyed once the steps on the log are trained again: RunFinished is past every step sent', async () => {
    // A detector's StopRun, from step 24 of the crashed run, waits.
    const { base, ckpt, lastSeq } = await crashedAfterStep25();
    const stop = stopRunCommand({ runId: 'loop-test', policy: 'converged', reason: 'done', issuedBy: 'spec', step: 24 });
    const after: AnyEvent[] = [];
    const result = await trainLoop({ ...setup(after, { steps: 40, stopRequested: () => stop }), checkpoint: base.checkpoint, resume: { ...ckpt, log: { lastSeq, lastStep: 25 } } });
    expect(result).toMatchObject({ reason: 'early_stopped', step: 25, commandId: stop.command_id });
    expect(after.at(-1)).toMatchObject({ name: 'RunFinished', value: { step: 25, reason: 'early_stopped' } });
    expect(steps(after)).toEqual([]); // steps 21..25 trained again, none sent twice
  });
});
