import { describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { useTestBackend } from '../testing-backend.ts';
import { traceDeltas } from './deltas.ts';
import { perSampleGradients, perSampleGradientsByLoop, uncoveredGradients } from './per-sample-gradients.ts';
import { transformer } from '../models/transformer.ts';
import { explicitPerSampleGradients, maxRelativeError, paramRanges } from './testing-brute-force.ts';
import { testBatch, testLoss, testMlp, type TestLossKind, type TestMlpOptions } from './testing-models.ts';

await useTestBackend();
await tf.ready();

const cases: Array<{ name: string; opts: TestMlpOptions; kind: TestLossKind }> = [
  { name: 'shared layer at 3 positions + gain', opts: { sizes: [2, 3, 2], activation: 'tanh', bias: true, seed: 31, positions: 3, gain: true }, kind: 'cross-entropy' },
  { name: 'layer applied at 3 positions separately', opts: { sizes: [2, 3, 2], activation: 'quadratic', bias: true, seed: 32, positions: 3, separateUses: true }, kind: 'half-mse' },
  { name: 'deep linear', opts: { sizes: [2, 3, 3, 2], activation: 'linear', bias: false, seed: 33 }, kind: 'half-mse' },
];

describe.each(cases)('perSampleGradients: $name', ({ opts, kind }) => {
  it('equal explicit per-sample gradients, at two batch sizes (the z-shape cache is per shape)', () => {
    const model = testMlp(opts);
    const width = opts.sizes[0]! * (opts.positions ?? 1);
    const ranges = paramRanges(model);
    for (const B of [5, 3]) {
      const { x, y } = testBatch(B, width, opts.sizes[opts.sizes.length - 1]!, kind, B);
      const lossFn = testLoss[kind];
      const want = explicitPerSampleGradients(model, lossFn, x, y);
      const traced = traceDeltas(model, lossFn, { x, y });
      const got = perSampleGradients(model, lossFn, { x, y }, traced);
      traced.dispose();
      got.forEach((g, k) => {
        expect(g.shape).toEqual([B, ...model.params[k]!.shape]);
        const flat = g.dataSync();
        const [from, to] = ranges[k]!;
        const n = to - from;
        for (let i = 0; i < B; i++) expect(maxRelativeError(flat.subarray(i * n, (i + 1) * n), want[i]!.subarray(from, to))).toBeLessThan(1e-5);
      });
      tf.dispose([...got, x, y]);
    }
    model.dispose();
  });
});

describe('traceDeltas', () => {
  it('rejects a loss that is not per-sample, without leaking', () => {
    const model = testMlp({ sizes: [2, 3, 2], activation: 'tanh', bias: true, seed: 2 });
    const { x, y } = testBatch(4, 2, 2, 'half-mse', 2);
    const meanLoss = (out: tf.Tensor2D, yy: tf.Tensor2D) => tf.reshape(tf.mean(testLoss['half-mse'](out, yy)), [1]) as tf.Tensor1D;
    traceDeltas(model, testLoss['half-mse'], { x, y }).dispose(); // learn the z shapes first
    const before = tf.memory().numTensors;
    expect(() => traceDeltas(model, meanLoss, { x, y })).toThrow(/per-sample losses of shape \[4\]/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('perSampleGradientsByLoop', () => {
  it('no variables: no work, no tensors', () => {
    const model = testMlp({ sizes: [2, 2], activation: 'linear', bias: false, seed: 1 });
    const { x, y } = testBatch(2, 2, 2, 'half-mse', 1);
    expect(perSampleGradientsByLoop(model, testLoss['half-mse'], { x, y }, [])).toEqual([]);
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe("a transformer's positional embedding: per-sample gradients from the trace (ForwardTrace.addedTo)", () => {
  for (const layerNorm of [false, true]) {
    it(`equal the per-sample loop's and the explicit ones, no pass per sample (layer norm ${layerNorm ? 'on' : 'off'})`, () => {
      const model = transformer({ vocab: 6, seqLen: 3, outputDim: 5, nLayers: 2, dModel: 8, nHeads: 2, dMlp: 16, activation: 'gelu', layerNorm, initScale: 1, seed: 7 });
      const B = 4;
      const { x, y } = testBatch(B, 18, 5, 'cross-entropy', 11);
      const lossFn = testLoss['cross-entropy'];
      const traced = traceDeltas(model, lossFn, { x, y });
      try {
        const pos = model.params[model.paramNames.indexOf('pos')]!;
        expect(traced.uncovered).toEqual([pos]);
        expect([...traced.fromDeltas.keys()]).toEqual([pos]);
        const [fromTrace] = uncoveredGradients(model, lossFn, { x, y }, traced);
        const [byLoop] = perSampleGradientsByLoop(model, lossFn, { x, y }, [pos]);
        expect(fromTrace!.shape).toEqual([B, ...pos.shape]);
        expect(maxRelativeError(fromTrace!.dataSync(), byLoop!.dataSync())).toBeLessThan(1e-5);
        // Every parameter, the positional embedding included, against the explicit gradients.
        const want = explicitPerSampleGradients(model, lossFn, x, y);
        const got = perSampleGradients(model, lossFn, { x, y }, traced, [fromTrace!]);
        const ranges = paramRanges(model);
        got.forEach((g, k) => {
          const flat = g.dataSync();
          const [from, to] = ranges[k]!;
          const n = to - from;
          for (let i = 0; i < B; i++) expect(maxRelativeError(flat.subarray(i * n, (i + 1) * n), want[i]!.subarray(from, to)), model.paramNames[k]).toBeLessThan(1e-4);
        });
        tf.dispose([...got.filter((g) => g !== fromTrace), fromTrace!, byLoop!]);
      } finally {
        traced.dispose();
        tf.dispose([x, y]);
        model.dispose();
      }
    });
  }
});
