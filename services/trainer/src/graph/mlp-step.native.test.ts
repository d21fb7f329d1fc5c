// The MLP's step as one TensorFlow graph (mlp-step.ts) against the eager step it replaces
// (update.ts, on the backend under test): the same losses, norms, logits, weights and optimizer
// slots, step after step, for each optimizer and activation the graph supports. Runs in the
// trainer-native project, whose setup builds the graph addon.
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../testing-backend.ts';
import { resolveConfig } from '../config/load.ts';
import { buildModel, buildOptimizer, buildTask, mlpOptionsOf } from '../build.ts';
import { optimizer } from '../optim/optimizer.ts';
import { BatchSource } from '../batches.ts';
import { Rng } from '../random.ts';
import { optimisationStep } from '../update.ts';
import { MlpGraphStep, graphStepProblem, mlpParamShapes } from './mlp-step.ts';
import { graphAddon } from './tf-graph.ts';

beforeAll(async () => {
  await useTestBackend();
});

const maxRelDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let scale = 1e-12;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]!));
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d / scale;
};

interface Case {
  name: string;
  model: Record<string, unknown>;
  optimizer: Record<string, unknown>;
  batch?: number | 'full';
  steps: number;
}

const CASES: Case[] = [
  { name: 'the reference MLP (one-hot, quadratic, no bias) with AdamW, full batch', model: { kind: 'mlp', input: 'onehot', hidden: [128], activation: 'quadratic', bias: false }, optimizer: { kind: 'adamw', lr: 3e-3, betas: [0.9, 0.98], weight_decay: 1 }, steps: 30 },
  { name: 'an embedding, relu, biases, two hidden layers with Adam and L2 decay, minibatches', model: { kind: 'mlp', input: 'embedding', embed_dim: 16, hidden: [32, 24], activation: 'relu', bias: true }, optimizer: { kind: 'adam', lr: 1e-2, weight_decay: 0.01 }, batch: 64, steps: 20 },
  { name: 'linear with SGD, Nesterov momentum and L2 decay', model: { kind: 'mlp', input: 'onehot', hidden: [40], activation: 'linear', bias: true }, optimizer: { kind: 'sgd', lr: 0.5, momentum: 0.9, nesterov: true, weight_decay: 1e-3 }, batch: 50, steps: 20 },
  { name: 'tanh with plain SGD', model: { kind: 'mlp', input: 'onehot', hidden: [20], activation: 'tanh', bias: false }, optimizer: { kind: 'sgd', lr: 0.5, momentum: 0 }, steps: 15 },
];

describe('MlpGraphStep', () => {
  it('has the addon (setup:native builds it with the backend)', () => {
    expect(graphAddon().why).toBeUndefined();
  });

  for (const c of CASES) {
    it(`steps as the eager step does: ${c.name}`, () => {
      const cfg = resolveConfig(
        { run: { steps: 100, seed: 3 }, task: { kind: 'modular', op: 'add', p: 23, train_fraction: 0.5 }, model: c.model, optimizer: { ...c.optimizer, batch_size: c.batch ?? 'full' } },
        [],
        'graph spec',
      );
      const task = buildTask(cfg);
      const model = buildModel(cfg, task);
      const shape = mlpOptionsOf(cfg, task)!;
      expect(graphStepProblem(shape)).toBeUndefined();
      expect(mlpParamShapes(shape)).toEqual(model.params.map((p) => p.shape));
      const { optimizer: optOptions } = buildOptimizer(cfg);
      const graph = new MlpGraphStep(shape, optOptions, { params: model.params.map((p) => p.dataSync() as Float32Array) });
      const opt = optimizer(model.params, optOptions);
      const batches = new BatchSource(task, new Rng(5), c.batch ?? 'full');
      const lr = c.optimizer.lr as number;
      try {
        for (let step = 1; step <= c.steps; step++) {
          const batch = batches.next(step);
          const x = batch.x.dataSync() as Float32Array;
          const y = batch.y.dataSync() as Float32Array;
          const eager = optimisationStep(model, task, opt, batch, lr);
          const fromGraph = graph.step(x, y, lr)!;
          const at = `step ${step}`;
          expect(Math.abs(fromGraph.loss - eager.loss.dataSync()[0]!) / Math.abs(eager.loss.dataSync()[0]!), at).toBeLessThan(1e-5);
          expect(Math.abs(fromGraph.gradNormSq - eager.gradNormSq.dataSync()[0]!) / eager.gradNormSq.dataSync()[0]!, at).toBeLessThan(1e-4);
          expect(Math.abs(fromGraph.updateNormSq - eager.updateNormSq) / eager.updateNormSq, at).toBeLessThan(1e-4);
          expect(maxRelDiff(eager.out.dataSync(), fromGraph.logits), at).toBeLessThan(1e-4);
          eager.dispose();
          batch.release();
        }
        // The state after all the steps: weights and slots, as the eager optimizer holds them.
        model.params.forEach((p, i) => expect(maxRelDiff(p.dataSync(), graph.params[i]!), `parameter ${i}`).toBeLessThan(1e-4));
        opt.state().slots.forEach((s, i) => expect(maxRelDiff(s.dataSync(), graph.slots[i]!), `slot ${i}`).toBeLessThan(1e-3));
        expect(graph.updates).toBe(c.steps);
      } finally {
        graph.dispose();
        opt.dispose();
        model.dispose();
        task.dispose();
      }
    });
  }

  it('drops a cancelled step: weights, slots and the update count stay as they were', () => {
    const shape = { inputDim: 4, outputDim: 3, hidden: [5], activation: 'tanh' as const, bias: true };
    const opt = { kind: 'adam' as const, momentum: 0, nesterov: false, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };
    const init = () => ({ params: [20, 5, 15, 3].map((n, i) => Float32Array.from({ length: n }, (_, j) => Math.sin(7 * i + j))) });
    const x = Float32Array.from({ length: 8 }, (_, i) => i / 8);
    const y = Float32Array.from([1, 0, 0, 0, 0, 1]);
    const [g, h] = [new MlpGraphStep(shape, opt, init()), new MlpGraphStep(shape, opt, init())];
    try {
      g.step(x, y, 0.1);
      h.step(x, y, 0.1);
      const before = { params: g.params.map((p) => Array.from(p)), slots: g.slots.map((s) => Array.from(s)) };
      expect(g.step(x, y, 0.1, () => true)).toBeUndefined();
      expect({ params: g.params.map((p) => Array.from(p)), slots: g.slots.map((s) => Array.from(s)) }).toEqual(before);
      expect(g.updates).toBe(1);
      // The step taken after it is the second step, as on a twin that never saw the cancelled one.
      const [rg, rh] = [g.step(x, y, 0.1, () => false)!, h.step(x, y, 0.1)!];
      expect(rg.loss).toBe(rh.loss);
      expect(g.params.map((p) => Array.from(p))).toEqual(h.params.map((p) => Array.from(p)));
      expect(g.updates).toBe(2);
    } finally {
      g.dispose();
      h.dispose();
    }
  });

  it('refuses a batch that does not fit, and state of the wrong size, naming the sizes', () => {
    const shape = { inputDim: 4, outputDim: 3, hidden: [5], activation: 'relu' as const, bias: false };
    const opt = { kind: 'adam' as const, momentum: 0, nesterov: false, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };
    expect(() => new MlpGraphStep(shape, opt, { params: [new Float32Array(20)] })).toThrow(/expected 2 parameters, got 1/);
    expect(() => new MlpGraphStep(shape, opt, { params: [new Float32Array(20), new Float32Array(14)] })).toThrow(/parameter 1: expected 15 values, got 14/);
    const g = new MlpGraphStep(shape, opt, { params: [new Float32Array(20), new Float32Array(15)] });
    try {
      expect(() => g.step(new Float32Array(7), new Float32Array(6), 0.1)).toThrow(/a batch of 7 inputs and 6 targets does not fit 4 → 3/);
      const r = g.step(new Float32Array(8).fill(1), Float32Array.from([1, 0, 0, 0, 1, 0]), 0.1)!;
      expect(r.loss).toBeCloseTo(Math.log(3), 5); // zero weights: uniform logits
      expect(r.logits).toHaveLength(6);
    } finally {
      g.dispose();
    }
  });
});
