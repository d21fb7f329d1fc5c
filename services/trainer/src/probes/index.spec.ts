import { describe, expect, it } from 'vitest';
import { EventCodec, newEventId, type ProbeSummary } from '@grokstream/schemas';
import { tf } from '../tf.ts';
import { useTestBackend } from '../testing-backend.ts';
import { Rng } from '../random.ts';
import { symmetricEigenvalues } from './eigen.ts';
import { createProbeState, runProbes, SecondOrderHazardError, type ProbeFields, type ProbeOptions } from './index.ts';
import { summarizeSpectrum } from './spectrum.ts';
import {
  explicitGop,
  explicitPerSampleGradients,
  hessianBySecondDifferences,
  paramCount,
  relativeError,
} from './testing-brute-force.ts';
import { testBatch, testLoss, testMlp } from './testing-models.ts';
import { traceDeltas } from './deltas.ts';
import { sampledTraceHSigma } from './hessian.ts';
import { perSampleGradientsByLoop, weightedGradientSum } from './per-sample-gradients.ts';

await useTestBackend();
await tf.ready();

const all: ProbeOptions = {
  gop: { enabled: true, topK: 4 },
  noise: true,
  hessian: { trace: true, topEig: true, powerIters: 300, trHSigma: true, trHSigmaSamples: 'exact' },
};

describe('runProbes', () => {
  const B = 6;
  const model = testMlp({ sizes: [3, 4, 3], activation: 'tanh', bias: true, seed: 21, gain: true });
  const data = testBatch(B, 3, 3, 'cross-entropy', 21);
  const batch = { x: data.x, y: data.y };
  const lossFn = testLoss['cross-entropy'];

  it('every field agrees with brute force (explicit per-sample gradients, float64 Hessian)', () => {
    const state = createProbeState(1);
    const out = runProbes(model, lossFn, batch, state, all);
    const g = explicitPerSampleGradients(model, lossFn, batch.x, batch.y);
    const M = paramCount(model);
    const H = hessianBySecondDifferences(model, 'cross-entropy', data.xRows, data.yRows);

    expect(out.probe_batch_size).toBe(B);
    // GOP of the whole model.
    const gopEigs = symmetricEigenvalues(explicitGop(g), M);
    const bf = summarizeSpectrum(gopEigs, { topK: 4 });
    const modelScope = out.gop[0]!;
    expect(modelScope.scope).toBe('model');
    expect(out.gop.map((s) => s.scope)).toEqual(['model', 'layer0', 'layer1', 'gain']);
    expect(modelScope.top_eigs.length).toBe(4);
    modelScope.top_eigs.forEach((l, i) => expect(relativeError(l, bf.top_eigs[i]!)).toBeLessThan(1e-4));
    expect(relativeError(modelScope.trace, bf.trace)).toBeLessThan(1e-4);
    expect(modelScope.numerical_rank).toBe(bf.numerical_rank);
    // The per-scope traces add up to the model's.
    expect(relativeError(out.gop.slice(1).reduce((s, x) => s + x.trace, 0), modelScope.trace)).toBeLessThan(1e-12);

    // Noise and SNR from the definitions.
    const mean = new Float64Array(M);
    for (const gi of g) gi.forEach((x, a) => (mean[a]! += x / B));
    const centred = g.map((gi) => gi.map((x, a) => x - mean[a]!));
    const trSigma = centred.reduce((s, u) => s + u.reduce((t, x) => t + x * x, 0), 0) / B;
    expect(relativeError(out.grad_noise_trace!, trSigma)).toBeLessThan(1e-4);
    expect(relativeError(out.grad_snr!, mean.reduce((s, x) => s + x * x, 0) / trSigma)).toBeLessThan(1e-4);

    // Tr(H Sigma) and the top eigenvalue from the brute-force Hessian.
    const Hu = (u: Float64Array) => Float64Array.from({ length: M }, (_, a) => u.reduce((s, x, b) => s + H[a * M + b]! * x, 0));
    const trHSigma = centred.reduce((s, u) => s + Hu(u).reduce((t, x, a) => t + x * u[a]!, 0), 0) / B;
    expect(relativeError(out.tr_h_sigma!, trHSigma)).toBeLessThan(1e-4);
    expect(out.extra.tr_h_sigma_samples).toBe(B);
    // By default one random sign combination (1 HVP): the same number sampledTraceHSigma gives
    // from the same state, and over every sign pattern it averages to the exact value (hessian.spec.ts).
    const sampled = runProbes(model, lossFn, batch, createProbeState(1), { hessian: { trHSigma: true } });
    expect(sampled.extra.tr_h_sigma_samples).toBe(1);
    const traced = traceDeltas(model, lossFn, batch);
    const fallback = perSampleGradientsByLoop(model, lossFn, batch, traced.uncovered);
    const direct = sampledTraceHSigma(model, lossFn, batch, (c) => weightedGradientSum(model, traced, fallback, c), createProbeState(1).trHSigma);
    traced.dispose();
    tf.dispose(fallback);
    expect(sampled.tr_h_sigma).toBe(direct);
    const eigs = symmetricEigenvalues(H, M);
    const dominant = Math.abs(eigs[0]!) >= Math.abs(eigs[M - 1]!) ? eigs[0]! : eigs[M - 1]!;
    expect(relativeError(out.hessian_top_eig!, dominant)).toBeLessThan(1e-4);

    // Hutchinson: one sample per call, the state keeps the running average.
    expect(out.hessian_trace_avg).toBe(out.hessian_trace);
    const again = runProbes(model, lossFn, batch, state, { gop: { enabled: false }, noise: false, hessian: { trace: true } });
    expect(again.hessian_trace).not.toBe(out.hessian_trace);
    expect(again.hessian_trace_avg).toBeCloseTo((out.hessian_trace! + again.hessian_trace!) / 2, 10);
    expect(state.hutchinson.count).toBe(2);
    expect(state.power.vector!.length).toBe(M);
  });

  it('switches: everything off leaves nulls and no gop; perLayer false keeps only the model scope', () => {
    const off = runProbes(model, lossFn, batch, createProbeState(), { gop: { enabled: false }, noise: false });
    expect(off).toEqual({
      probe_batch_size: B,
      grad_noise_trace: null,
      grad_snr: null,
      tr_h_sigma: null,
      hessian_trace: null,
      hessian_trace_avg: null,
      hessian_top_eig: null,
      gop: [],
      extra: {},
    } satisfies ProbeFields);
    const modelOnly = runProbes(model, lossFn, batch, createProbeState(), { gop: { perLayer: false }, noise: false });
    expect(modelOnly.gop.map((s) => s.scope)).toEqual(['model']);
    expect(modelOnly.gop[0]!.top_eigs.length).toBe(B); // default topK 8 > B
    expect(modelOnly.grad_noise_trace).toBeNull();
  });

  it('does not leak tensors across repeated calls with every probe on', () => {
    const state = createProbeState(2);
    const opts: ProbeOptions = { ...all, hessian: { ...all.hessian, powerIters: 2 }, fourier: { p: 3 } };
    runProbes(model, lossFn, batch, state, opts);
    const before = tf.memory().numTensors;
    for (let r = 0; r < 3; r++) runProbes(model, lossFn, batch, state, opts);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('its fields encode as a ProbeSummary event', () => {
    const fields = runProbes(model, lossFn, batch, createProbeState(3), { ...all, hessian: { trace: true, topEig: true } });
    const event: ProbeSummary = { event_id: newEventId(), run_id: 'r', seq: 1, ts: Date.now(), step: 10, ...fields, elapsed_ms: 1.5 };
    const codec = EventCodec.load();
    expect(codec.decode(codec.encode('ProbeSummary', event)).value).toEqual(event);
  });
});

describe('runProbes with ops tfjs cannot differentiate twice', () => {
  const model = testMlp({ sizes: [3, 4, 2], activation: 'tanh-builtin', bias: true, seed: 22 });
  const { x, y } = testBatch(4, 3, 2, 'half-mse', 22);

  it("throws by default; 'skip' nulls the Hessian fields and still reports the first-order probes", () => {
    const opts: ProbeOptions = { hessian: { trace: true, topEig: true, trHSigma: true } };
    const before = tf.memory().numTensors;
    expect(() => runProbes(model, testLoss['half-mse'], { x, y }, createProbeState(), opts)).toThrow(SecondOrderHazardError);
    expect(tf.memory().numTensors).toBe(before);
    const state = createProbeState();
    const out = runProbes(model, testLoss['half-mse'], { x, y }, state, { ...opts, onSecondOrderHazard: 'skip' });
    expect(out.hessian_trace).toBeNull();
    expect(out.hessian_top_eig).toBeNull();
    expect(out.tr_h_sigma).toBeNull();
    expect(out.extra).toEqual({ hessian_skipped: 1 });
    expect(out.gop.length).toBe(3);
    expect(out.grad_noise_trace).toBeGreaterThan(0);
    expect(state.hutchinson.count).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('runProbes fourier', () => {
  it('reads operand a rows of the first layer: a 3-frequency embedding is sparse, a random one is not', () => {
    const p = 31;
    const d = 6;
    // One-hot [a | b] input of width 2p; the first layer's rows 0..p-1 embed operand a.
    const model = testMlp({ sizes: [2 * p, d, p], activation: 'quadratic', bias: false, seed: 23 });
    const state = createProbeState();
    const { x, y } = testBatch(2, 2 * p, p, 'cross-entropy', 23);
    const opts: ProbeOptions = { gop: { enabled: false }, noise: false, fourier: { p, topK: 3 } };

    const random = runProbes(model, testLoss['cross-entropy'], { x, y }, state, opts);
    expect(random.extra.fourier_sparsity).toBeLessThan(0.5);
    expect(random.extra.fourier_key_freqs).toBeGreaterThan(5);

    const rng = new Rng(5);
    const w = new Float32Array(2 * p * d);
    const ks = [2, 7, 11];
    for (let n = 0; n < p; n++)
      for (let c = 0; c < d; c++)
        w[n * d + c] = ks.reduce((s, k, i) => s + (3 - i) * Math.cos((2 * Math.PI * k * n) / p + c), 0);
    // Operand b's rows are noise and must not count.
    for (let e = p * d; e < w.length; e++) w[e] = rng.normal();
    model.denseLayers[0]!.weight.assign(tf.tensor2d(w, [2 * p, d]));
    const sparse = runProbes(model, testLoss['cross-entropy'], { x, y }, state, opts);
    expect(sparse.extra.fourier_sparsity).toBeCloseTo(1, 5);
    // Energies 9 : 4 : 1 of 14: the top two hold 13/14 > 0.9.
    expect(sparse.extra.fourier_key_freqs).toBe(2);

    const b = runProbes(model, testLoss['cross-entropy'], { x, y }, state, { ...opts, fourier: { p, topK: 3, rowOffset: p } });
    expect(b.extra.fourier_sparsity).toBeLessThan(0.5);
    expect(() => runProbes(model, testLoss['cross-entropy'], { x, y }, state, { ...opts, fourier: { p, layer: 'nope' } })).toThrow(/no dense layer/);
    model.dispose();
    tf.dispose([x, y]);
  });
});
