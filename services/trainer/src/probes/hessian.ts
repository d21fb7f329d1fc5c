// Hessian probes of the mean per-sample loss over the probe batch, L = (1/B) sum_i L_i, all from
// Hessian-vector products by double backward: H v = ∇_θ (∇_θ L · v), one tfjs gradient nested in
// another. Only ops with a correct second derivative in tfjs may be used by the model and loss
// (see second-order-ops.ts); every product checks the taped forward pass and throws
// SecondOrderHazardError rather than return a silently wrong number.
import { tf } from '../tf.ts';
import { Rng } from '../random.ts';
import type { Model } from '../models/model.ts';
import type { PerSampleLoss, ProbeBatch } from './deltas.ts';
import { SecondOrderHazardError, secondOrderHazards } from '../second-order-ops.ts';

/** A vector in parameter space: one tensor per model.params entry, same shapes. */
export type ParamVector = tf.Tensor[];

/**
 * H v for the Hessian of the batch-mean loss; v is one tensor per parameter. Returns new tensors
 * (the caller disposes them). Throws SecondOrderHazardError when the loss uses an op whose second
 * derivative tfjs gets wrong.
 */
export function hessianVectorProduct<Y extends tf.Tensor>(
  model: Model,
  lossFn: PerSampleLoss<Y>,
  batch: ProbeBatch<Y>,
  v: readonly tf.Tensor[],
): ParamVector {
  const params = model.params;
  if (v.length !== params.length) throw new Error(`hessianVectorProduct: ${v.length} tensors for ${params.length} parameters`);
  let hazards: string[] = [];
  const hv = tf.tidy(() => {
    const engine = tf.engine();
    const { grads } = engine.gradients(
      () => {
        const tape = engine.state.activeTape;
        const from = tape.length;
        let to = from;
        const inner = engine.gradients(
          () => {
            const loss = tf.mean(lossFn(model.forward(batch.x), batch.y)) as tf.Scalar;
            to = engine.state.activeTape.length;
            return loss;
          },
          params,
          undefined,
          true,
        );
        hazards = secondOrderHazards(engine.state.activeTape, from, to, params);
        let dot: tf.Tensor = tf.scalar(0);
        inner.grads.forEach((g, k) => {
          if (g) dot = tf.add(dot, tf.sum(tf.mul(g, v[k]!)));
        });
        return dot as tf.Scalar;
      },
      params,
      undefined,
      true,
    );
    return grads.map((g, k) => g ?? tf.zerosLike(params[k]!));
  });
  if (hazards.length > 0) {
    tf.dispose(hv);
    throw new SecondOrderHazardError(hazards);
  }
  return hv;
}

/**
 * A Hessian-vector product at the model's current weights on the probe batch: by default
 * hessianVectorProduct, op by op; graph/mlp-hessian.ts computes the same as one graph.
 */
export type Hvp = (v: readonly tf.Tensor[]) => ParamVector;

/** sum over parameters of <a_k, b_k>. */
export function dotParams(a: readonly tf.Tensor[], b: readonly tf.Tensor[]): number {
  return tf.tidy(() => tf.addN(a.map((t, k) => tf.sum(tf.mul(t, b[k]!)))).dataSync()[0]!);
}

/** Split a flat vector into tensors shaped like model.params. */
export function unflatten(model: Model, flat: Float32Array): ParamVector {
  let off = 0;
  return model.params.map((p) => {
    const t = tf.tensor(flat.subarray(off, off + p.size), p.shape);
    off += p.size;
    return t;
  });
}

/** Concatenate per-parameter tensors into one flat Float32Array. */
export function flatten(v: readonly tf.Tensor[]): Float32Array {
  const out = new Float32Array(v.reduce((n, t) => n + t.size, 0));
  let off = 0;
  for (const t of v) {
    out.set(t.dataSync() as Float32Array, off);
    off += t.size;
  }
  return out;
}

function paramCount(model: Model): number {
  return model.params.reduce((n, p) => n + p.size, 0);
}

// ---------------------------------------------------------------- Hutchinson

/** Running state of the Hutchinson trace estimator, kept by the caller between steps. */
export interface HutchinsonState {
  /** mulberry32 state for the Rademacher vectors. */
  rngState: number;
  sum: number;
  count: number;
}

export function createHutchinsonState(seed = 0x1234): HutchinsonState {
  return { rngState: seed >>> 0, sum: 0, count: 0 };
}

/** A Rademacher vector (entries ±1 with probability 1/2) of the model's parameter count. */
export function rademacher(model: Model, rng: Rng): Float32Array {
  return rademacherSigns(paramCount(model), rng);
}

/** n independent signs, each ±1 with probability 1/2. */
function rademacherSigns(n: number, rng: Rng): Float32Array {
  // A plain loop: Float32Array.from with a callback took ~1.5 ms for the reference MLP's 22,656.
  const signs = new Float32Array(n);
  for (let i = 0; i < n; i++) signs[i] = rng.next() < 0.5 ? -1 : 1;
  return signs;
}

/**
 * One Hutchinson sample v^T H v (v Rademacher, so E[v^T H v] = Tr H), one HVP; adds it to the
 * state's running average. Returns the sample, the running average, and the vector used.
 */
export function hutchinsonSample<Y extends tf.Tensor>(
  model: Model,
  lossFn: PerSampleLoss<Y>,
  batch: ProbeBatch<Y>,
  state: HutchinsonState,
  hvp: Hvp = (v) => hessianVectorProduct(model, lossFn, batch, v),
): { sample: number; average: number; vector: Float32Array } {
  const rng = new Rng(state.rngState);
  const vector = rademacher(model, rng);
  const v = unflatten(model, vector);
  try {
    const hv = hvp(v);
    const sample = dotParams(v, hv);
    tf.dispose(hv);
    state.rngState = rng.snapshot;
    state.sum += sample;
    state.count += 1;
    return { sample, average: state.sum / state.count, vector };
  } finally {
    tf.dispose(v);
  }
}

// ---------------------------------------------------------------- power iteration

/** The previous step's top eigenvector (warm start), kept by the caller between steps. */
export interface PowerIterationState {
  /** Unit vector, flattened in params order; null until the first call. */
  vector: Float32Array | null;
  /** mulberry32 state for the random start. */
  rngState: number;
}

export function createPowerIterationState(seed = 0x5678): PowerIterationState {
  return { vector: null, rngState: seed >>> 0 };
}

/**
 * Dominant Hessian eigenvalue by `iterations` power steps (one HVP each) from the state's vector,
 * or from a random unit vector on the first call or when the parameter count changed. Returns the
 * Rayleigh quotient v^T H v of the last iterate v (signed: power iteration finds the eigenvalue of
 * largest MAGNITUDE, which for a trained network is the top positive one, the "sharpness"), and
 * stores H v / ||H v|| as the next warm start. Warm-started across steps, a few iterations per
 * step track the top eigenvector as it drifts.
 */
export function topHessianEigenvalue<Y extends tf.Tensor>(
  model: Model,
  lossFn: PerSampleLoss<Y>,
  batch: ProbeBatch<Y>,
  state: PowerIterationState,
  iterations = 3,
  hvp: Hvp = (v) => hessianVectorProduct(model, lossFn, batch, v),
): number {
  if (!(iterations >= 1)) throw new Error('topHessianEigenvalue: iterations must be >= 1');
  const M = paramCount(model);
  let start = state.vector;
  if (!start || start.length !== M) {
    const rng = new Rng(state.rngState);
    start = Float32Array.from({ length: M }, () => rng.normal());
    state.rngState = rng.snapshot;
  }
  let v = unflatten(model, start);
  let lambda = 0;
  try {
    const n0 = Math.sqrt(dotParams(v, v));
    if (n0 === 0) throw new Error('topHessianEigenvalue: zero start vector');
    const unit = v.map((t) => tf.div(t, n0));
    tf.dispose(v);
    v = unit;
    for (let it = 0; it < iterations; it++) {
      const w = hvp(v);
      lambda = dotParams(v, w);
      const norm = Math.sqrt(dotParams(w, w));
      if (norm === 0) {
        tf.dispose(w);
        break;
      }
      tf.dispose(v);
      v = w.map((t) => tf.div(t, norm));
      tf.dispose(w);
    }
    state.vector = flatten(v);
    return lambda;
  } finally {
    tf.dispose(v);
  }
}

// ---------------------------------------------------------------- Tr(H Sigma)

/** Running state of the sampled Tr(H Sigma) estimator (its random signs), kept between steps. */
export interface TraceHSigmaState {
  /** mulberry32 state for the Rademacher signs. */
  rngState: number;
}

export function createTraceHSigmaState(seed = 0x9abc): TraceHSigmaState {
  return { rngState: seed >>> 0 };
}

/**
 * u^T H u for u = (1/√B) sum_i ε_i d_i, d_i = g_i - g_bar the centred per-sample gradients, given
 * the signs ε (length B). Since sum_i ε_i d_i = sum_i (ε_i - mean ε) g_i, u comes from
 * `combine(c)` = sum_i c_i g_i (weightedGradientSum, per-sample-gradients.ts) without the g_i.
 * One HVP.
 */
export function combinationQuadraticForm<Y extends tf.Tensor>(
  model: Model,
  lossFn: PerSampleLoss<Y>,
  batch: ProbeBatch<Y>,
  combine: (c: Float32Array) => ParamVector,
  signs: Float32Array,
  hvp: Hvp = (v) => hessianVectorProduct(model, lossFn, batch, v),
): number {
  const B = signs.length;
  let mean = 0;
  for (const e of signs) mean += e / B;
  const scale = 1 / Math.sqrt(B);
  const u = combine(Float32Array.from(signs, (e) => (e - mean) * scale));
  try {
    const hu = hvp(u);
    const value = dotParams(u, hu);
    tf.dispose(hu);
    return value;
  } finally {
    tf.dispose(u);
  }
}

/**
 * Tr(H Sigma) estimated from `samples` HVPs (Hutchinson's idea applied to Sigma's factor): with
 * Rademacher signs ε, E[u^T H u] = (1/B) sum_i d_i^T H d_i exactly (E[ε_i ε_j] = δ_ij), so the
 * mean of `samples` quadratic forms (combinationQuadraticForm) is unbiased. B HVPs cheaper than
 * traceHSigma at one sample, for the every-step probe budget.
 */
export function sampledTraceHSigma<Y extends tf.Tensor>(
  model: Model,
  lossFn: PerSampleLoss<Y>,
  batch: ProbeBatch<Y>,
  combine: (c: Float32Array) => ParamVector,
  state: TraceHSigmaState,
  samples = 1,
  hvp: Hvp = (v) => hessianVectorProduct(model, lossFn, batch, v),
): number {
  if (!(Number.isInteger(samples) && samples >= 1)) throw new Error(`sampledTraceHSigma: samples must be an integer >= 1, got ${samples}`);
  const B = batch.x.shape[0];
  const rng = new Rng(state.rngState);
  let acc = 0;
  for (let s = 0; s < samples; s++) {
    const signs = rademacherSigns(B, rng);
    acc += combinationQuadraticForm(model, lossFn, batch, combine, signs, hvp);
  }
  state.rngState = rng.snapshot;
  return acc / samples;
}

/**
 * Tr(H Sigma) = (1/B) sum_i (g_i - g_bar)^T H (g_i - g_bar), with Sigma the (1/B) covariance of
 * the per-sample gradients (as in noise.ts) and H the Hessian of the batch-mean loss: one HVP per
 * sample. `perSampleGrads` is one [B, ...shape] tensor per parameter (per-sample-gradients.ts).
 * With maxVectors = m < B only the first m centred gradients are used and the mean of their
 * quadratic forms is returned: an unbiased estimate when the batch is in random order (exact
 * for m = B, the default, which the spec prefers for B <= 64).
 */
export function traceHSigma<Y extends tf.Tensor>(
  model: Model,
  lossFn: PerSampleLoss<Y>,
  batch: ProbeBatch<Y>,
  perSampleGrads: readonly tf.Tensor[],
  options: { maxVectors?: number; hvp?: Hvp } = {},
): number {
  const hvp = options.hvp ?? ((v: readonly tf.Tensor[]) => hessianVectorProduct(model, lossFn, batch, v));
  const B = batch.x.shape[0];
  const m = Math.min(B, options.maxVectors ?? B);
  const centred = tf.tidy(() => perSampleGrads.map((g) => tf.sub(g, tf.mean(g, 0, true))));
  try {
    let acc = 0;
    for (let i = 0; i < m; i++) {
      const u = tf.tidy(() => centred.map((c) => tf.squeeze(tf.slice(c, i, 1), [0])));
      try {
        const hu = hvp(u);
        acc += dotParams(u, hu);
        tf.dispose(hu);
      } finally {
        tf.dispose(u);
      }
    }
    return acc / m;
  } finally {
    tf.dispose(centred);
  }
}
