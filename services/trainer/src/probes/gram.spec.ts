import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { useTestBackend } from '../testing-backend.ts';
import { symmetricEigenvalues } from './eigen.ts';
import { gopGrams } from './gram.ts';
import { summarizeGram, summarizeSpectrum } from './spectrum.ts';
import {
  explicitGop,
  explicitGram,
  explicitPerSampleGradients,
  maxRelativeError,
  paramRanges,
  relativeError,
} from './testing-brute-force.ts';
import { testBatch, testLoss, testMlp, type TestLossKind, type TestMlpOptions } from './testing-models.ts';

// Top level, not beforeAll: describe.each bodies build models at collection time.
await useTestBackend();
await tf.ready();

const B = 6;
const cases: Array<{ name: string; model: TestMlpOptions; loss: TestLossKind; scopes: string[] }> = [
  {
    name: 'tanh MLP with bias, cross-entropy',
    model: { sizes: [4, 5, 3], activation: 'tanh', bias: true, seed: 1 },
    loss: 'cross-entropy',
    scopes: ['layer0', 'layer1'],
  },
  {
    name: 'quadratic 3-layer MLP, half MSE',
    model: { sizes: [3, 4, 4, 2], activation: 'quadratic', bias: true, seed: 2 },
    loss: 'half-mse',
    scopes: ['layer0', 'layer1', 'layer2'],
  },
  {
    name: 'deep linear net without bias',
    model: { sizes: [3, 4, 4, 3], activation: 'linear', bias: false, seed: 3 },
    loss: 'half-mse',
    scopes: ['layer0', 'layer1', 'layer2'],
  },
  {
    name: 'first layer shared by 3 positions, plus a gain no dense layer owns (per-sample fallback)',
    model: { sizes: [3, 4, 2], activation: 'tanh', bias: true, seed: 4, positions: 3, gain: true },
    loss: 'cross-entropy',
    scopes: ['layer0', 'layer1', 'gain'],
  },
  {
    name: 'first layer applied separately at 3 positions (three trace entries of one layer)',
    model: { sizes: [3, 4, 2], activation: 'quadratic', bias: true, seed: 5, positions: 3, separateUses: true },
    loss: 'half-mse',
    scopes: ['layer0', 'layer1'],
  },
];

describe.each(cases)('gopGrams: $name', ({ model: opts, loss, scopes }) => {
  const model = testMlp(opts);
  const width = opts.sizes[0]! * (opts.positions ?? 1);
  const { x, y } = testBatch(B, width, opts.sizes[opts.sizes.length - 1]!, loss, 100 + opts.seed);
  const lossFn = testLoss[loss];
  const g = explicitPerSampleGradients(model, lossFn, x, y);
  const ranges = paramRanges(model);
  afterAll(() => {
    model.dispose();
    tf.dispose([x, y]);
  });

  it('per-scope Grams equal (1/B) G^T G of explicit per-sample gradients', () => {
    const grams = gopGrams(model, lossFn, { x, y });
    expect(grams.scopes.map((s) => s.scope)).toEqual(scopes);
    for (const { scope, gram } of grams.scopes) {
      // The scope's parameters are contiguous in params order for these models.
      const idx = model.paramNames.map((n, i) => (n === scope || n.startsWith(`${scope}.`) ? i : -1)).filter((i) => i >= 0);
      const want = explicitGram(g, ranges[idx[0]!]![0], ranges[idx[idx.length - 1]!]![1]);
      // float32 gradients on both sides: agreement to ~1e-6; 1e-4 is the requirement.
      expect(maxRelativeError(gram, want)).toBeLessThan(1e-4);
    }
    expect(maxRelativeError(grams.total, explicitGram(g))).toBeLessThan(1e-4);
  });

  it('whole-model spectrum summary equals that of the explicit M x M GOP', () => {
    const { total } = gopGrams(model, lossFn, { x, y });
    const fromGram = summarizeGram(total, B);
    const gop = explicitGop(g);
    const M = g[0]!.length;
    const eigs = symmetricEigenvalues(gop, M);
    const bf = summarizeSpectrum(eigs);
    let trace = 0;
    for (let a = 0; a < M; a++) trace += gop[a * M + a]!;
    expect(relativeError(fromGram.trace, trace)).toBeLessThan(1e-4);
    expect(relativeError(fromGram.frobenius, Math.sqrt(gop.reduce((s, v) => s + v * v, 0)))).toBeLessThan(1e-4);
    expect(relativeError(fromGram.spectral, eigs[0]!)).toBeLessThan(1e-4);
    expect(fromGram.top_eigs.length).toBe(B);
    fromGram.top_eigs.forEach((l, i) => expect(relativeError(l, bf.top_eigs[i]!)).toBeLessThan(1e-4));
    expect(fromGram.numerical_rank).toBe(bf.numerical_rank);
    expect(relativeError(fromGram.effective_rank, bf.effective_rank)).toBeLessThan(1e-4);
    expect(relativeError(fromGram.condition_number, bf.condition_number)).toBeLessThan(1e-4);
  });

  it('frees every tensor it makes', () => {
    gopGrams(model, lossFn, { x, y });
    const before = tf.memory().numTensors;
    for (let r = 0; r < 3; r++) gopGrams(model, lossFn, { x, y });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('gopGrams: structure', () => {
  it('a deep linear net with B = 4 < M = 8 samples has GOP rank B', () => {
    // Tiny deep linear net: M = 2*2 + 2*2 = 8 parameters; B = 4 < 8 gives rank 4.
    const model = testMlp({ sizes: [2, 2, 2], activation: 'linear', bias: false, seed: 9 });
    const { x, y } = testBatch(4, 2, 2, 'half-mse', 9);
    const { total } = gopGrams(model, testLoss['half-mse'], { x, y });
    expect(summarizeGram(total, 4).numerical_rank).toBe(4);
    model.dispose();
    tf.dispose([x, y]);
  });

  it('duplicate samples give a rank-deficient Gram (rank = distinct samples)', () => {
    const model = testMlp({ sizes: [3, 4, 2], activation: 'tanh', bias: true, seed: 10 });
    const { x, y } = testBatch(3, 3, 2, 'half-mse', 10);
    const idx = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');
    const x2 = tf.gather(x, idx) as tf.Tensor2D;
    const y2 = tf.gather(y, idx) as tf.Tensor2D;
    const { total } = gopGrams(model, testLoss['half-mse'], { x: x2, y: y2 });
    const s = summarizeGram(total, 6);
    expect(s.numerical_rank).toBe(3);
    expect(total[0 * 6 + 3]).toBeCloseTo(total[0]!, 10);
    model.dispose();
    tf.dispose([x, y, idx, x2, y2]);
  });
});
