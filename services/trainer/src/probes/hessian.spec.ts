import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { useTestBackend } from '../testing-backend.ts';
import { Rng } from '../random.ts';
import { symmetricEigenvalues } from './eigen.ts';
import {
  createHutchinsonState,
  createPowerIterationState,
  flatten,
  hessianVectorProduct,
  hutchinsonSample,
  topHessianEigenvalue,
  combinationQuadraticForm,
  createTraceHSigmaState,
  sampledTraceHSigma,
  traceHSigma,
  unflatten,
} from './hessian.ts';
import { perSampleGradients, perSampleGradientsByLoop, weightedGradientSum, weightedLossGradient } from './per-sample-gradients.ts';
import { traceDeltas } from './deltas.ts';
import { SecondOrderHazardError } from '../second-order-ops.ts';
import {
  explicitPerSampleGradients,
  hessianBySecondDifferences,
  maxRelativeError,
  paramCount,
  relativeError,
} from './testing-brute-force.ts';
import { testBatch, testLoss, testMlp, type TestLossKind, type TestMlpOptions } from './testing-models.ts';

await useTestBackend();
await tf.ready();

function setup(opts: TestMlpOptions, kind: TestLossKind, B: number, seed: number) {
  const model = testMlp(opts);
  const width = opts.sizes[0]! * (opts.positions ?? 1);
  const data = testBatch(B, width, opts.sizes[opts.sizes.length - 1]!, kind, seed);
  const H = hessianBySecondDifferences(model, kind, data.xRows, data.yRows);
  return { model, lossFn: testLoss[kind], batch: { x: data.x, y: data.y }, H, M: paramCount(model), data };
}

/** H v in float64 from the brute-force Hessian. */
function matVec(H: Float64Array, v: ArrayLike<number>): Float64Array {
  const M = v.length;
  return Float64Array.from({ length: M }, (_, a) => {
    let s = 0;
    for (let b = 0; b < M; b++) s += H[a * M + b]! * v[b]!;
    return s;
  });
}

const quad = (H: Float64Array, v: ArrayLike<number>) => matVec(H, v).reduce((s, hv, a) => s + hv * v[a]!, 0);

const models: Array<{ name: string; opts: TestMlpOptions; kind: TestLossKind }> = [
  { name: 'tanh MLP + cross-entropy (twice-differentiable ops)', opts: { sizes: [3, 4, 3], activation: 'tanh', bias: true, seed: 1 }, kind: 'cross-entropy' },
  { name: 'quadratic MLP + half MSE', opts: { sizes: [3, 4, 2], activation: 'quadratic', bias: true, seed: 2 }, kind: 'half-mse' },
  { name: 'deep linear, no bias', opts: { sizes: [2, 3, 3, 2], activation: 'linear', bias: false, seed: 3 }, kind: 'half-mse' },
  {
    name: 'shared layer at 2 positions + gain',
    opts: { sizes: [2, 3, 2], activation: 'tanh', bias: true, seed: 4, positions: 2, gain: true },
    kind: 'cross-entropy',
  },
  { name: 'relu MLP (piecewise linear)', opts: { sizes: [3, 5, 2], activation: 'relu', bias: true, seed: 5 }, kind: 'cross-entropy' },
];

describe.each(models)('Hessian probes: $name', ({ opts, kind }) => {
  const B = 5;
  const { model, lossFn, batch, H, M } = setup(opts, kind, B, 50 + opts.seed);
  afterAll(() => {
    model.dispose();
    tf.dispose([batch.x, batch.y]);
  });

  it('HVPs with unit vectors rebuild the brute-force (float64 second-difference) Hessian', () => {
    const got = new Float64Array(M * M);
    for (let b = 0; b < M; b++) {
      const e = new Float32Array(M);
      e[b] = 1;
      const v = unflatten(model, e);
      const hv = hessianVectorProduct(model, lossFn, batch, v);
      flatten(hv).forEach((h, a) => (got[a * M + b] = h));
      tf.dispose([...v, ...hv]);
    }
    // float32 HVP vs float64 reference: ~1e-6 of the largest entry.
    expect(maxRelativeError(got, H)).toBeLessThan(1e-4);
  });

  it('Hutchinson: each sample is v^T H v for its Rademacher v; the running average converges to Tr H', () => {
    const state = createHutchinsonState(7);
    const first = hutchinsonSample(model, lossFn, batch, state);
    expect(new Set(first.vector).size).toBeLessThanOrEqual(2);
    expect(first.vector.every((x) => x === 1 || x === -1)).toBe(true);
    const want = quad(H, first.vector);
    expect(Math.abs(first.sample - want)).toBeLessThan(1e-4 * Math.max(1, Math.abs(want)));
    expect(state.count).toBe(1);
    expect(first.average).toBe(first.sample);
    const second = hutchinsonSample(model, lossFn, batch, state);
    expect(second.vector).not.toEqual(first.vector);
    expect(second.average).toBeCloseTo((first.sample + second.sample) / 2, 10);

    const n = 200;
    let last = second;
    for (let k = 2; k < n; k++) last = hutchinsonSample(model, lossFn, batch, state);
    let trace = 0;
    let offDiag2 = 0;
    for (let a = 0; a < M; a++) {
      trace += H[a * M + a]!;
      for (let b = 0; b < M; b++) if (a !== b) offDiag2 += H[a * M + b]! ** 2;
    }
    // Var(v^T H v) = 2 sum_{a != b} H_ab^2 for Rademacher v; allow 5 standard errors.
    const se = Math.sqrt((2 * offDiag2) / n);
    expect(Math.abs(last.average - trace)).toBeLessThan(5 * se + 1e-4 * Math.abs(trace));
  });

  it('power iteration converges to the largest-magnitude eigenvalue; the state warm-starts the next call', () => {
    const eigs = symmetricEigenvalues(H, M);
    const dominant = Math.abs(eigs[0]!) >= Math.abs(eigs[M - 1]!) ? eigs[0]! : eigs[M - 1]!;
    const state = createPowerIterationState(3);
    const lambda = topHessianEigenvalue(model, lossFn, batch, state, 400);
    expect(relativeError(lambda, dominant)).toBeLessThan(1e-4);
    expect(state.vector!.length).toBe(M);
    // Warm start: one more iteration from the stored vector is already converged...
    expect(relativeError(topHessianEigenvalue(model, lossFn, batch, state, 1), dominant)).toBeLessThan(1e-4);
    // ...and the stored vector is the eigenvector: ||H v - lambda v|| small.
    const v = state.vector!;
    const r = matVec(H, v).reduce((s, hv, a) => s + (hv - dominant * v[a]!) ** 2, 0);
    expect(Math.sqrt(r)).toBeLessThan(1e-3 * Math.abs(dominant));
  });

  it('Tr(H Sigma) equals (1/B) sum_i u_i^T H u_i with explicit per-sample gradients and the brute-force H', () => {
    const g = explicitPerSampleGradients(model, lossFn, batch.x, batch.y);
    const mean = new Float64Array(M);
    for (const gi of g) gi.forEach((x, a) => (mean[a]! += x / B));
    const forms = g.map((gi) => quad(H, gi.map((x, a) => x - mean[a]!)));
    const want = forms.reduce((s, q) => s + q, 0) / B;

    const traced = traceDeltas(model, lossFn, batch);
    const psg = perSampleGradients(model, lossFn, batch, traced);
    traced.dispose();
    expect(relativeError(traceHSigma(model, lossFn, batch, psg), want)).toBeLessThan(1e-4);
    // The subsampled estimator averages the first m quadratic forms.
    const want2 = (forms[0]! + forms[1]!) / 2;
    expect(relativeError(traceHSigma(model, lossFn, batch, psg, { maxVectors: 2 }), want2)).toBeLessThan(1e-4);
    tf.dispose(psg);
  });

  it('sampled Tr(H Sigma): u = (1/√B) sum ε_i d_i is built from the trace, and its quadratic form averages to the exact Tr(H Sigma) over all 2^B signs', () => {
    const g = explicitPerSampleGradients(model, lossFn, batch.x, batch.y);
    const mean = new Float64Array(M);
    for (const gi of g) gi.forEach((x, a) => (mean[a]! += x / B));
    const exact = g.reduce((s, gi) => s + quad(H, gi.map((x, a) => x - mean[a]!)), 0) / B;

    const traced = traceDeltas(model, lossFn, batch);
    const fallback = perSampleGradientsByLoop(model, lossFn, batch, traced.uncovered);
    const combine = (c: Float32Array) => weightedGradientSum(model, traced, fallback, c);
    // The combination itself: sum_i c_i g_i against the explicit per-sample gradients.
    const c = Float32Array.from({ length: B }, (_, i) => (i % 2 ? 0.5 : -1.25) * (i + 1));
    const combined = combine(c);
    const want = new Float64Array(M);
    g.forEach((gi, i) => gi.forEach((x, a) => (want[a]! += c[i]! * x)));
    expect(maxRelativeError(flatten(combined), want)).toBeLessThan(1e-4);
    tf.dispose(combined);
    // The same combination as the gradient of the weighted loss, without the trace.
    const weighted = weightedLossGradient(model, lossFn, batch, c);
    expect(maxRelativeError(flatten(weighted), want)).toBeLessThan(1e-4);
    tf.dispose(weighted);

    let average = 0;
    let averageSquare = 0;
    for (let bits = 0; bits < 2 ** B; bits++) {
      const signs = Float32Array.from({ length: B }, (_, i) => ((bits >> i) & 1 ? 1 : -1));
      const form = combinationQuadraticForm(model, lossFn, batch, combine, signs);
      // Each term is u^T H u for the centred combination, against the brute-force H.
      const eps = Array.from(signs);
      const u = new Float64Array(M);
      g.forEach((gi, i) => gi.forEach((x, a) => (u[a]! += (eps[i]! * (x - mean[a]!)) / Math.sqrt(B))));
      expect(Math.abs(form - quad(H, u))).toBeLessThan(1e-4 * Math.max(1e-3, Math.abs(exact), Math.abs(quad(H, u))));
      average += form / 2 ** B;
      averageSquare += form ** 2 / 2 ** B;
    }
    expect(relativeError(average, exact)).toBeLessThan(1e-4);

    // The stateful estimator: its signs advance between calls; many samples approach the exact value.
    const state = createTraceHSigmaState(5);
    const one = sampledTraceHSigma(model, lossFn, batch, combine, state);
    const again = sampledTraceHSigma(model, lossFn, batch, combine, createTraceHSigmaState(5));
    expect(again).toBe(one);
    const many = sampledTraceHSigma(model, lossFn, batch, combine, state, 64);
    // Within 5 standard errors of the exact value (the variance from the exhaustive pass).
    const se = Math.sqrt(Math.max(0, averageSquare - average ** 2) / 64);
    expect(Math.abs(many - exact)).toBeLessThan(5 * se + 1e-4 * Math.abs(exact));
    expect(() => sampledTraceHSigma(model, lossFn, batch, combine, state, 0)).toThrow(/samples must be/);
    traced.dispose();
    tf.dispose(fallback);
  });

  it('frees every tensor it makes', () => {
    const hs = createHutchinsonState(1);
    const ps = createPowerIterationState(1);
    const run = () => {
      hutchinsonSample(model, lossFn, batch, hs);
      topHessianEigenvalue(model, lossFn, batch, ps, 2);
      const traced = traceDeltas(model, lossFn, batch);
      const psg = perSampleGradients(model, lossFn, batch, traced);
      traced.dispose();
      traceHSigma(model, lossFn, batch, psg, { maxVectors: 2 });
      tf.dispose(psg);
      const again = traceDeltas(model, lossFn, batch);
      const fallback = perSampleGradientsByLoop(model, lossFn, batch, again.uncovered);
      sampledTraceHSigma(model, lossFn, batch, (c) => weightedGradientSum(model, again, fallback, c), createTraceHSigmaState(2), 2);
      again.dispose();
      tf.dispose(fallback);
    };
    run();
    const before = tf.memory().numTensors;
    run();
    run();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Hessian probes refuse ops tfjs cannot differentiate twice', () => {
  it('tf.tanh in the model', () => {
    const model = testMlp({ sizes: [3, 4, 2], activation: 'tanh-builtin', bias: true, seed: 8 });
    const { x, y } = testBatch(4, 3, 2, 'half-mse', 8);
    const v = unflatten(model, new Float32Array(paramCount(model)).fill(1));
    const before = tf.memory().numTensors;
    expect(() => hessianVectorProduct(model, testLoss['half-mse'], { x, y }, v)).toThrow(SecondOrderHazardError);
    expect(tf.memory().numTensors).toBe(before);
    try {
      hessianVectorProduct(model, testLoss['half-mse'], { x, y }, v);
    } catch (err) {
      expect((err as SecondOrderHazardError).ops).toEqual(['Tanh']);
    }
    tf.dispose([...v, x, y]);
    model.dispose();
  });

  it('tf.logSoftmax in the loss', () => {
    const model = testMlp({ sizes: [3, 4, 3], activation: 'quadratic', bias: true, seed: 9 });
    const { x, y } = testBatch(4, 3, 3, 'cross-entropy', 9);
    const builtinCe = (out: tf.Tensor2D, yy: tf.Tensor2D) => tf.neg(tf.sum(tf.mul(yy, tf.logSoftmax(out)), 1)) as tf.Tensor1D;
    const state = createHutchinsonState(1);
    expect(() => hutchinsonSample(model, builtinCe, { x, y }, state)).toThrow(/logSoftmax/);
    // A failed sample does not enter the running average.
    expect(state.count).toBe(0);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('constant data through tf.exp is fine (not a function of the parameters)', () => {
    const model = testMlp({ sizes: [3, 4, 2], activation: 'quadratic', bias: true, seed: 10 });
    const { x, y } = testBatch(4, 3, 2, 'half-mse', 10);
    const loss = (out: tf.Tensor2D, yy: tf.Tensor2D) => tf.sum(tf.mul(tf.square(tf.sub(out, yy)), tf.exp(yy)), 1) as tf.Tensor1D;
    const rng = new Rng(1);
    const v = unflatten(model, Float32Array.from({ length: paramCount(model) }, () => rng.normal()));
    const hv = hessianVectorProduct(model, loss, { x, y }, v);
    tf.dispose([...v, ...hv, x, y]);
    model.dispose();
  });
});
