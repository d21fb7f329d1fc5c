// The probes' backend work as graphs (mlp-probes.ts, mlp-hessian.ts, probe-reader.ts) against the
// op-by-op route (probes/deltas.ts, gram.ts, fourier.ts, hessian.ts): the same Grams, Fourier
// energies and Hessian-vector products, and the same ProbeSummary fields from readProbes, for the
// MLPs a graph step runs; and the Grams' spectra solved on a thread of their own (GramSpectra).
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { useTestBackend } from '../testing-backend.ts';
import { mlp, type MlpOptions } from '../models/mlp.ts';
import { crossEntropyPerSample } from '../second-order-ops.ts';
import { traceDeltas } from '../probes/deltas.ts';
import { gramRows } from '../probes/gram.ts';
import { gramsOfRows } from '../probes/gram-math.ts';
import { fourierEnergiesOf } from '../probes/fourier.ts';
import { symmetricEigenvalues } from '../probes/eigen.ts';
import { createProbeState, readProbes, runProbes, completeProbes } from '../probes/index.ts';
import { eigenvaluesOf, summarizeGrams } from '../probes/summaries.ts';
import { testBatch } from '../probes/testing-models.ts';
import { GramSpectra, MlpProbeGraph, type ProbeGraphReading } from './mlp-probes.ts';
import { MlpGraphStep } from './mlp-step.ts';
import { graphHvp, graphProbeReader } from './probe-reader.ts';
import { hessianVectorProduct } from '../probes/hessian.ts';
import { weightedGradientSum, weightedLossGradient } from '../probes/per-sample-gradients.ts';

beforeAll(async () => {
  await useTestBackend();
});

const maxRel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  let d = 0;
  for (let i = 0; i < b.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d / scale;
};

const CASES: Array<{ name: string; options: MlpOptions; B: number; fourier?: number }> = [
  { name: 'the reference MLP (one-hot pairs, quadratic, no bias)', options: { inputDim: 46, outputDim: 23, hidden: [32], activation: 'quadratic', bias: false, initScale: 1, seed: 3 }, B: 64, fourier: 23 },
  { name: 'an embedding at two positions, relu, biases, two hidden layers', options: { inputDim: 22, outputDim: 11, embedDim: 6, hidden: [16, 12], activation: 'relu', bias: true, initScale: 1, seed: 4 }, B: 24, fourier: 11 },
  { name: 'tanh with biases', options: { inputDim: 10, outputDim: 5, hidden: [8], activation: 'tanh', bias: true, initScale: 1, seed: 5 }, B: 16 },
];

describe('the first-order probe reads as one graph', () => {
  for (const c of CASES) {
    it(`give the op-by-op Grams and Fourier energies: ${c.name}`, () => {
      const model = mlp(c.options);
      const data = testBatch(c.B, c.options.inputDim, c.options.outputDim, 'cross-entropy', 9);
      const batch = { x: data.x, y: data.y };
      const reader = graphProbeReader(model, c.options, batch, c.fourier ? { p: c.fourier, rowOffset: 0 } : undefined);
      try {
        const traced = traceDeltas(model, crossEntropyPerSample, batch);
        const eager = gramsOfRows(c.B, gramRows(model, traced, []).layers, []);
        traced.dispose();
        const read = reader.read();
        expect(read.scopes.map((s) => s.scope)).toEqual(eager.scopes.map((s) => s.scope));
        read.scopes.forEach((s, i) => expect(maxRel(s.gram, eager.scopes[i]!.gram), s.scope).toBeLessThan(1e-5));
        // The spectra, against the JavaScript solver on the op-by-op Grams.
        const sorted = (e: ArrayLike<number>) => Array.from(e).sort((a, b) => b - a);
        // They are solved on a thread of their own: in flight when read() returns, taken here.
        expect('inFlight' in read.eigenvalues!).toBe(true);
        const eig = eigenvaluesOf(read.eigenvalues)!;
        read.scopes.forEach((s, i) => expect(maxRel(sorted(eig.scopes[i]!), sorted(symmetricEigenvalues(eager.scopes[i]!.gram, c.B))), `${s.scope} eigenvalues`).toBeLessThan(1e-5));
        expect(maxRel(sorted(eig.total), sorted(symmetricEigenvalues(eager.total, c.B))), 'model eigenvalues').toBeLessThan(1e-5);
        // Not asked for (GOP off): none are solved.
        expect(reader.read({ spectra: false }).eigenvalues).toBeUndefined();
        expect(maxRel(read.total!, eager.total), 'the model K').toBeLessThan(1e-5);
        if (c.fourier) {
          const energies = fourierEnergiesOf(model.denseLayers[0]!.weight as tf.Variable<tf.Rank.R2>, c.fourier, 0);
          expect(maxRel(read.fourierEnergies!, energies)).toBeLessThan(1e-5);
        } else {
          expect(read.fourierEnergies).toBeUndefined();
        }
        // The weights are read at each call: after an update the Grams follow.
        tf.tidy(() => model.params.forEach((p) => p.assign(tf.mul(p, 1.5))));
        const traced2 = traceDeltas(model, crossEntropyPerSample, batch);
        const eager2 = gramsOfRows(c.B, gramRows(model, traced2, []).layers, []);
        traced2.dispose();
        reader.read().scopes.forEach((s, i) => expect(maxRel(s.gram, eager2.scopes[i]!.gram), `${s.scope} after an update`).toBeLessThan(1e-5));
      } finally {
        reader.dispose();
        model.dispose();
        tf.dispose([data.x, data.y]);
      }
    });
  }

  it('give readProbes the same GOP spectra, noise and Fourier sparsity, serve beside a sampled tr_h_sigma, and are not used when an exact one needs the deltas', () => {
    const c = CASES[1]!;
    const model = mlp(c.options);
    const data = testBatch(c.B, c.options.inputDim, c.options.outputDim, 'cross-entropy', 9);
    const batch = { x: data.x, y: data.y };
    let reads = 0;
    const graph = graphProbeReader(model, c.options, batch, { p: c.fourier!, rowOffset: 0 });
    const reader = { read: (asks?: { spectra?: boolean }) => (reads++, graph.read(asks)) };
    try {
      const options = { fourier: { p: c.fourier! } };
      const opByOp = runProbes(model, crossEntropyPerSample, batch, createProbeState(1), options);
      const r = readProbes(model, crossEntropyPerSample, batch, createProbeState(1), { ...options, reader });
      expect(reads).toBe(1);
      expect(r.work!.layers).toEqual([]);
      expect(eigenvaluesOf(r.work!.eigenvalues)!.scopes).toHaveLength(4); // embed, hidden1, hidden2, out
      const fromGraph = completeProbes(r, summarizeGrams(r.work!));
      expect(fromGraph.gop.map((g) => g.scope)).toEqual(opByOp.gop.map((g) => g.scope));
      fromGraph.gop.forEach((g, i) => {
        const o = opByOp.gop[i]!;
        expect(maxRel(g.top_eigs, o.top_eigs), g.scope).toBeLessThan(1e-4);
        expect(g.trace).toBeCloseTo(o.trace, 4);
        expect(g.effective_rank).toBeCloseTo(o.effective_rank, 5);
      });
      expect(fromGraph.grad_noise_trace! / opByOp.grad_noise_trace! - 1).toBeLessThan(1e-5);
      expect(fromGraph.grad_snr! / opByOp.grad_snr! - 1).toBeLessThan(1e-4);
      expect(fromGraph.extra.fourier_sparsity).toBeCloseTo(opByOp.extra.fourier_sparsity!, 5);
      expect(fromGraph.extra.fourier_key_freqs).toBe(opByOp.extra.fourier_key_freqs);
      // The sampled tr_h_sigma takes a weighted gradient, not the deltas: the reader serves beside
      // it, and its value is the traced route's (the same signs from the same state).
      const traced = readProbes(model, crossEntropyPerSample, batch, createProbeState(1), { ...options, hessian: { trHSigma: true } });
      const sampled = readProbes(model, crossEntropyPerSample, batch, createProbeState(1), { ...options, reader, hessian: { trHSigma: true } });
      expect(reads).toBe(2);
      expect(sampled.work!.layers).toEqual([]);
      expect(Math.abs(sampled.fields.tr_h_sigma! / traced.fields.tr_h_sigma! - 1)).toBeLessThan(1e-4);
      // The exact one combines the traced per-sample gradients themselves: the op-by-op route.
      const exact = readProbes(model, crossEntropyPerSample, batch, createProbeState(1), { ...options, reader, hessian: { trHSigma: true, trHSigmaSamples: 'exact' } });
      expect(reads).toBe(2);
      expect(exact.work!.layers.length).toBeGreaterThan(0);
      expect(exact.fields.tr_h_sigma).not.toBeNull();
      // GOP off, noise on: the reader serves the noise and solves no spectra.
      const noGop = readProbes(model, crossEntropyPerSample, batch, createProbeState(1), { ...options, gop: { enabled: false }, reader });
      expect(reads).toBe(3);
      expect(noGop.work!.eigenvalues).toBeUndefined();
      expect(completeProbes(noGop, summarizeGrams(noGop.work!)).grad_noise_trace! / opByOp.grad_noise_trace! - 1).toBeLessThan(1e-5);
    } finally {
      graph.dispose();
      model.dispose();
      tf.dispose([data.x, data.y]);
    }
  });

  it('refuses a batch of another size, naming both', () => {
    const g = new MlpProbeGraph({ inputDim: 4, outputDim: 3, hidden: [5], activation: 'relu', bias: false }, 8);
    try {
      expect(() => g.read([new Float32Array(20), new Float32Array(15)], new Float32Array(12), new Float32Array(9))).toThrow(/takes 8 samples of 4 → 3; got 12 inputs and 9 targets/);
    } finally {
      g.dispose();
    }
  });
});

describe('the Hessian-vector product as one graph', () => {
  const cases: Array<{ name: string; options: MlpOptions; B: number }> = [
    { name: 'quadratic, no bias', options: { inputDim: 46, outputDim: 23, hidden: [32], activation: 'quadratic', bias: false, initScale: 1, seed: 3 }, B: 32 },
    { name: 'relu (its mask form), biases, an embedding, two hidden layers', options: { inputDim: 22, outputDim: 11, embedDim: 6, hidden: [16, 12], activation: 'relu', bias: true, initScale: 1, seed: 4 }, B: 24 },
    { name: 'linear', options: { inputDim: 10, outputDim: 5, hidden: [8, 8], activation: 'linear', bias: false, initScale: 1, seed: 6 }, B: 16 },
  ];
  for (const c of cases) {
    it(`equals the op-by-op product: ${c.name}`, () => {
      const model = mlp(c.options);
      const data = testBatch(c.B, c.options.inputDim, c.options.outputDim, 'cross-entropy', 9);
      const batch = { x: data.x, y: data.y };
      const product = graphHvp(model, c.options, batch);
      if ('why' in product) throw new Error(product.why);
      const v = model.params.map((p, i) => tf.randomNormal(p.shape, 0, 1, 'float32', 50 + i));
      try {
        const before = tf.memory().numTensors;
        const graph = product.hvp(v);
        const eager = hessianVectorProduct(model, crossEntropyPerSample, batch, v);
        graph.forEach((t, i) => {
          expect(t.shape).toEqual(model.params[i]!.shape);
          expect(maxRel(t.dataSync(), eager[i]!.dataSync()), `parameter ${i}`).toBeLessThan(1e-4);
        });
        tf.dispose([...graph, ...eager]);
        expect(tf.memory().numTensors).toBe(before);
      } finally {
        product.dispose();
        tf.dispose(v);
        model.dispose();
        tf.dispose([data.x, data.y]);
      }
    });
  }

  it('is not there for tanh, whose second derivative the registry lacks, and says so', () => {
    const o: MlpOptions = { inputDim: 10, outputDim: 5, hidden: [8], activation: 'tanh', bias: true, initScale: 1, seed: 5 };
    const model = mlp(o);
    const data = testBatch(16, 10, 5, 'cross-entropy', 9);
    try {
      const product = graphHvp(model, o, { x: data.x, y: data.y });
      expect(product).toEqual({ why: expect.stringMatching(/No gradient defined for op: TanhGrad/) });
    } finally {
      model.dispose();
      tf.dispose([data.x, data.y]);
    }
  });

  it('gives the weighted gradient sum_i c_i ∇L_i of the traced deltas and of a weighted loss, op by op', () => {
    for (const c of CASES) {
      const model = mlp(c.options);
      const data = testBatch(c.B, c.options.inputDim, c.options.outputDim, 'cross-entropy', 9);
      const batch = { x: data.x, y: data.y };
      const product = graphHvp(model, c.options, batch);
      const traced = traceDeltas(model, crossEntropyPerSample, batch);
      try {
        if ('why' in product) {
          expect(c.options.activation).toBe('tanh');
          continue;
        }
        const weights = Float32Array.from({ length: c.B }, (_, i) => (i % 3) - 1 + 0.25 * i);
        const fromGraph = product.weightedGradient(weights);
        const fromLoss = weightedLossGradient(model, crossEntropyPerSample, batch, weights);
        const fromDeltas = weightedGradientSum(model, traced, [], weights);
        fromGraph.forEach((t, i) => {
          const [g, l, d] = [t, fromLoss[i]!, fromDeltas[i]!].map((x) => x.dataSync());
          expect(maxRel(g!, d!), `${c.name}: parameter ${i}, graph vs deltas`).toBeLessThan(1e-4);
          expect(maxRel(l!, d!), `${c.name}: parameter ${i}, weighted loss vs deltas`).toBeLessThan(1e-4);
        });
        tf.dispose([...fromGraph, ...fromLoss, ...fromDeltas]);
      } finally {
        traced.dispose();
        if (!('why' in product)) product.dispose();
        model.dispose();
        tf.dispose([data.x, data.y]);
      }
    }
  });

  it('gives readProbes the op-by-op Hessian probes, from the same random vectors', () => {
    const c = CASES[0]!;
    const model = mlp(c.options);
    const data = testBatch(c.B, c.options.inputDim, c.options.outputDim, 'cross-entropy', 9);
    const batch = { x: data.x, y: data.y };
    const product = graphHvp(model, c.options, batch);
    if ('why' in product) throw new Error(product.why);
    try {
      const hessian = { trace: true, topEig: true, powerIters: 2, trHSigma: true, trHSigmaSamples: 1 } as const;
      const opByOp = runProbes(model, crossEntropyPerSample, batch, createProbeState(7), { hessian });
      const graph = runProbes(model, crossEntropyPerSample, batch, createProbeState(7), { hessian, hvp: product.hvp });
      for (const k of ['hessian_trace', 'hessian_top_eig', 'tr_h_sigma'] as const) {
        expect(Math.abs(graph[k]! - opByOp[k]!) / Math.abs(opByOp[k]!), k).toBeLessThan(1e-4);
      }
    } finally {
      product.dispose();
      model.dispose();
      tf.dispose([data.x, data.y]);
    }
  });
});

describe('the first-order probe reads in the step graph', () => {
  const opt = { kind: 'adamw' as const, momentum: 0, nesterov: false, beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0.5 };
  for (const c of CASES.slice(0, 2)) {
    it(`give the probe graph's reading of the new weights, at the steps that ask: ${c.name}`, () => {
      const model = mlp(c.options);
      const probeData = testBatch(c.B, c.options.inputDim, c.options.outputDim, 'cross-entropy', 9);
      const stepData = testBatch(2 * c.B, c.options.inputDim, c.options.outputDim, 'cross-entropy', 10);
      const fourier = c.fourier ? { p: c.fourier, rowOffset: 0 } : undefined;
      const [px, py, x, y] = [probeData.x, probeData.y, stepData.x, stepData.y].map((t) => t.dataSync() as Float32Array) as [Float32Array, Float32Array, Float32Array, Float32Array];
      const step = new MlpGraphStep(c.options, opt, { params: model.params.map((p) => p.dataSync() as Float32Array) }, {}, { probe: { x: px, y: py, ...(fourier ? { fourier } : {}) } });
      const alone = new MlpProbeGraph(c.options, c.B, fourier);
      const copy = (r: ProbeGraphReading) => ({ grams: r.grams.map((g) => Array.from(g)), total: Array.from(r.total), fourier: r.fourierParts && Array.from(r.fourierParts) });
      const expectSame = (r: ProbeGraphReading, at: string) => {
        const want = copy(alone.read(step.params, px, py));
        r.grams.forEach((g, i) => expect(maxRel(g, want.grams[i]!), `${at}: K of layer ${i}`).toBeLessThan(1e-6));
        expect(maxRel(r.total, want.total), `${at}: the model K`).toBeLessThan(1e-6);
        if (want.fourier) expect(maxRel(r.fourierParts!, want.fourier), `${at}: Fourier`).toBeLessThan(1e-6);
        else expect(r.fourierParts).toBeUndefined();
      };
      try {
        // No probe asked yet: nothing to give.
        step.step(x, y, 1e-2);
        expect(step.probeReading()).toBeUndefined();
        step.step(x, y, 1e-2, undefined, { probe: true });
        const first = step.probeReading()!;
        expectSame(first, 'step 2');
        const kept = copy(first);
        // A step that does not ask leaves no reading (the weights moved on).
        step.step(x, y, 1e-2);
        expect(step.probeReading()).toBeUndefined();
        // Two probe steps in a row: the first's arrays hold until the second's summaries are taken.
        step.step(x, y, 1e-2, undefined, { probe: true });
        const second = step.probeReading()!;
        expectSame(second, 'step 4');
        step.step(x, y, 1e-2, undefined, { probe: true });
        expect(copy(second)).not.toEqual(copy(step.probeReading()!));
        expectSame(step.probeReading()!, 'step 5');
        expect(kept).not.toEqual(copy(second));
        // A cancelled probe step: the reading of the weights kept stays as it was.
        const before = copy(step.probeReading()!);
        expect(step.step(x, y, 1e-2, () => true, { probe: true })).toBeUndefined();
        expect(copy(step.probeReading()!)).toEqual(before);
        expectSame(step.probeReading()!, 'after a cancelled step');
      } finally {
        step.dispose();
        alone.dispose();
        model.dispose();
        tf.dispose([probeData.x, probeData.y, stepData.x, stepData.y]);
      }
    });
  }
});

describe('the Grams\' spectra on a thread of their own (GramSpectra)', () => {
  /** A random PSD n × n matrix of rank r (r < n leaves a null space, as a Gram of B > rank has). */
  const psd = (n: number, r: number, seed: number) => {
    let x = seed;
    const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
    const g = Array.from({ length: n * r }, rnd);
    const k = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let t = 0; t < r; t++) k[i * n + j]! += g[i * r + t]! * g[j * r + t]!;
    return k;
  };
  const sorted = (e: ArrayLike<number>) => Array.from(e).sort((a, b) => b - a);

  it('give the JavaScript solver\'s eigenvalues, from the Grams as they were at start(), several in flight at once', () => {
    const n = 64;
    const spectra = new GramSpectra(2, n);
    try {
      const grams = [psd(n, 40, 1), psd(n, 64, 2)];
      const total = grams[0]!.map((v, i) => v + grams[1]![i]!);
      const want = [...grams, total].map((k) => sorted(symmetricEigenvalues(k, n)));
      const first = spectra.start(grams, total);
      // The inputs were copied: overwriting them (the next step's reading) changes nothing.
      const later = [psd(n, 10, 3), psd(n, 20, 4)];
      const laterTotal = later[0]!.map((v, i) => v + later[1]![i]!);
      const wantLater = [...later, laterTotal].map((k) => sorted(symmetricEigenvalues(k, n)));
      grams.forEach((g, i) => g.set(later[i]!));
      total.set(laterTotal);
      const second = spectra.start(grams, total);
      const b = second.take();
      const a = first.take();
      [...a.scopes, a.total].forEach((e, i) => expect(maxRel(sorted(e), want[i]!), `first, spectrum ${i}`).toBeLessThan(1e-9));
      [...b.scopes, b.total].forEach((e, i) => expect(maxRel(sorted(e), wantLater[i]!), `second, spectrum ${i}`).toBeLessThan(1e-9));
      expect(first.take()).toBe(a); // taken once, kept
      expect(() => spectra.start([grams[0]!], total)).toThrow(/2 Grams expected, got 1/);
    } finally {
      spectra.dispose();
    }
  });

  it('a graph disposed with a run still in flight waits for it, and says so if it is taken after', () => {
    const spectra = new GramSpectra(1, 32);
    const k = psd(32, 8, 5);
    const inFlight = spectra.start([k], k);
    spectra.dispose();
    expect(() => inFlight.take()).toThrow(/finished already, or its graph disposed/);
  });
});
