// Every model: output shape, a trace that reproduces forward(), the dz convention (perturbing z
// changes the output as it should), parameter bookkeeping, and that a few steps of training help.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { useTestBackend } from '../testing-backend.ts';
import { mlp } from './mlp.ts';
import { deepLinear } from './deep-linear.ts';
import { transformer } from './transformer.ts';
import type { Model } from './model.ts';
import { modularTask } from '../tasks/modular.ts';
import { crossEntropyPerSample } from '../tasks/losses.ts';

beforeAll(async () => {
  await useTestBackend();
});

const cases: Array<{ name: string; model: () => Model; inputDim: number; outDim: number; encoding?: 'pair' | 'sequence'; p?: number }> = [
  { name: 'mlp one-hot', model: () => mlp({ inputDim: 10, outputDim: 5, hidden: [8, 6], activation: 'relu', bias: true, initScale: 1, seed: 1 }), inputDim: 10, outDim: 5, encoding: 'pair', p: 5 },
  { name: 'mlp embedding', model: () => mlp({ inputDim: 10, outputDim: 5, hidden: [8], activation: 'quadratic', bias: false, initScale: 1, embedDim: 4, seed: 1 }), inputDim: 10, outDim: 5, encoding: 'pair', p: 5 },
  { name: 'mlp tanh', model: () => mlp({ inputDim: 10, outputDim: 5, hidden: [8], activation: 'tanh', bias: true, initScale: 1, seed: 1 }), inputDim: 10, outDim: 5 },
  { name: 'deep linear', model: () => deepLinear({ inputDim: 6, outputDim: 4, depth: 3, width: 5, gamma: 0.5, seed: 1 }), inputDim: 6, outDim: 4 },
  {
    name: 'transformer',
    model: () => transformer({ vocab: 6, seqLen: 3, outputDim: 5, nLayers: 2, dModel: 8, nHeads: 2, dMlp: 16, activation: 'gelu', layerNorm: false, initScale: 1, seed: 1 }),
    inputDim: 18,
    outDim: 5,
    encoding: 'sequence',
    p: 5,
  },
];

describe.each(cases)('$name', ({ model: make, inputDim, outDim, encoding, p }) => {
  it('traces the same output as forward, and records every dense layer once', () => {
    const model = make();
    const x = tf.randomNormal([7, inputDim], 0, 1, 'float32', 3) as tf.Tensor2D;
    const out = model.forward(x);
    const tr = model.trace(x);
    expect(out.shape).toEqual([7, outDim]);
    expect(tr.output.arraySync()).toEqual(out.arraySync());
    expect(tr.dense.map((d) => d.layer)).toEqual(model.denseLayers);
    for (const d of tr.dense) {
      expect(d.input.shape[0]).toBe(7 * d.positions);
      expect(d.z.shape).toEqual([7 * d.positions, d.layer.weight.shape[1]]);
    }
    expect(model.paramNames).toHaveLength(model.params.length);
    model.dispose();
  });

  it('adds dz to each pre-activation: zero dz changes nothing, a nudge at the last layer moves the output by it', () => {
    const model = make();
    const x = tf.randomNormal([3, inputDim], 0, 1, 'float32', 4) as tf.Tensor2D;
    const shapes = model.trace(x).dense.map((d) => d.z.shape);
    const zeros = shapes.map((s) => tf.zeros(s) as tf.Tensor2D);
    expect(model.trace(x, zeros).output.arraySync()).toEqual(model.forward(x).arraySync());
    const nudge = shapes.map((s, i) => (i === shapes.length - 1 ? tf.fill(s, 0.5) : tf.zeros(s)) as tf.Tensor2D);
    const diff = tf.sub(model.trace(x, nudge).output, model.forward(x)).arraySync() as number[][];
    for (const row of diff) for (const v of row) expect(v).toBeCloseTo(0.5, 5);
    model.dispose();
  });

  if (encoding && p) {
    it('learns: 30 Adam-free gradient steps lower the training loss', () => {
      const model = make();
      const task = modularTask({ op: 'add', p, trainFraction: 0.6, encoding, seed: 0 });
      const loss = () => tf.tidy(() => tf.mean(crossEntropyPerSample(model.forward(task.train.x), task.train.y)).dataSync()[0]!);
      const before = loss();
      for (let i = 0; i < 30; i++) {
        tf.tidy(() => {
          const { grads } = tf.variableGrads(() => tf.mean(crossEntropyPerSample(model.forward(task.train.x), task.train.y)) as tf.Scalar, model.params);
          for (const param of model.params) param.assign(tf.sub(param, tf.mul(0.1, grads[param.name]!)));
        });
      }
      expect(loss()).toBeLessThan(before);
      task.dispose();
      model.dispose();
    });
  }
});

describe('seeded initialization', () => {
  // tfjs treats a seed of 0 as no seed: every model built with seed 0 must still be the same.
  for (const seed of [0, 1, 7]) {
    it(`builds the same weights twice from seed ${seed}`, () => {
      const weights = () => {
        const built = [
          mlp({ inputDim: 10, outputDim: 5, hidden: [8], activation: 'relu', bias: true, initScale: 1, seed }),
          deepLinear({ inputDim: 6, outputDim: 4, depth: 3, width: 5, gamma: 0.5, seed }),
          transformer({ vocab: 6, seqLen: 3, outputDim: 5, nLayers: 1, dModel: 8, nHeads: 2, dMlp: 16, activation: 'gelu', layerNorm: false, initScale: 1, seed }),
        ];
        const values = built.flatMap((m) => m.params.map((p) => Array.from(p.dataSync())));
        built.forEach((m) => m.dispose());
        return values;
      };
      expect(weights()).toEqual(weights());
    });
  }
});
