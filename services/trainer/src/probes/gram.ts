// B x B Gram matrices K = (1/B) G^T G of the per-sample gradients (G = [g_1 .. g_B]), per scope
// (each dense layer with its bias; each parameter no dense layer owns) and for the whole model
// (the sum of the scopes: the scopes partition the parameters).
//
// Dense layer z = a W + b, used at T positions: g_i(W) = sum_t a_it^T δ_it, g_i(b) = sum_t δ_it, so
//   <g_i, g_j> = sum_t sum_s (a_it . a_js + [bias]) (δ_it . δ_js)
// needs only the layer's inputs and deltas (one forward + one backward for the whole batch), never
// the per-sample gradients themselves. It is assembled in float64 from the float32 activations, so
// the Gram is exactly PSD up to float64 rounding and its numerical rank is meaningful.
import { tf } from '../tf.ts';
import type { Model } from '../models/model.ts';
import { traceDeltas, type LayerDeltas, type PerSampleLoss, type ProbeBatch, type TracedDeltas } from './deltas.ts';
import { perSampleGradientsByLoop } from './per-sample-gradients.ts';

export interface ScopeGram {
  /** A dense layer's name, or the model's name of a parameter outside the dense layers. */
  scope: string;
  /** (1/B) G_s^T G_s, B x B row-major, G_s = the scope's rows of G. */
  gram: Float64Array;
}

export interface GopGrams {
  batchSize: number;
  /** Sum of the scopes' Grams: the whole model's K. */
  total: Float64Array;
  scopes: ScopeGram[];
}

function dot(x: Float32Array, xo: number, y: Float32Array, yo: number, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += x[xo + k]! * y[yo + k]!;
  return s;
}

/**
 * The rows of all uses of a layer, sample-major: sample i's rows (every use, every position) are
 * rows [i*R, (i+1)*R) of the result, R = the layer's rows per sample. `pick` chooses a or δ.
 */
function sampleMajorRows(uses: LayerDeltas['uses'], batchSize: number, width: number, pick: (u: LayerDeltas['uses'][number]) => tf.Tensor2D): Float32Array {
  const data = uses.map((u) => ({ values: pick(u).dataSync() as Float32Array, T: u.positions }));
  if (data.length === 1) return data[0]!.values;
  const R = data.reduce((n, d) => n + d.T, 0);
  const out = new Float32Array(batchSize * R * width);
  for (let i = 0; i < batchSize; i++) {
    let row = i * R;
    for (const { values, T } of data) {
      out.set(values.subarray(i * T * width, (i + 1) * T * width), row * width);
      row += T;
    }
  }
  return out;
}

/**
 * The Gram of the rows of x (n rows of `width`), accumulated in float64, n x n row-major. Four
 * rows q at a time share each read of row p (about 2x faster than one dot product at a time).
 */
function rowGram(x: Float32Array, n: number, width: number): Float64Array {
  const g = new Float64Array(n * n);
  for (let p = 0; p < n; p++) {
    const po = p * width;
    let q = p;
    for (; q + 3 < n; q += 4) {
      const q0 = q * width;
      const q1 = q0 + width;
      const q2 = q1 + width;
      const q3 = q2 + width;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < width; k++) {
        const a = x[po + k]!;
        s0 += a * x[q0 + k]!;
        s1 += a * x[q1 + k]!;
        s2 += a * x[q2 + k]!;
        s3 += a * x[q3 + k]!;
      }
      g[p * n + q] = g[q * n + p] = s0;
      g[p * n + q + 1] = g[(q + 1) * n + p] = s1;
      g[p * n + q + 2] = g[(q + 2) * n + p] = s2;
      g[p * n + q + 3] = g[(q + 3) * n + p] = s3;
    }
    for (; q < n; q++) {
      const s = dot(x, po, x, q * width, width);
      g[p * n + q] = g[q * n + p] = s;
    }
  }
  return g;
}

/**
 * K of one dense layer (all its uses, all its positions) from its inputs and deltas: with R rows
 * per sample, K_ij = (1/B) sum over sample i's rows p and sample j's rows q of
 * (a_p . a_q + [bias]) (δ_p . δ_q), from the float64 row Grams of a and δ.
 */
export function denseLayerGram({ layer, uses }: LayerDeltas, batchSize: number): Float64Array {
  const B = batchSize;
  const [nIn, nOut] = layer.weight.shape as [number, number];
  const bias = layer.bias ? 1 : 0;
  const R = uses.reduce((n, u) => n + u.positions, 0);
  const n = B * R;
  const ga = rowGram(sampleMajorRows(uses, B, nIn, (u) => u.input), n, nIn);
  const gd = rowGram(sampleMajorRows(uses, B, nOut, (u) => u.delta), n, nOut);
  const k = new Float64Array(B * B);
  for (let i = 0; i < B; i++) {
    for (let j = i; j < B; j++) {
      let s = 0;
      for (let p = i * R; p < (i + 1) * R; p++) {
        for (let q = j * R; q < (j + 1) * R; q++) s += (ga[p * n + q]! + bias) * gd[p * n + q]!;
      }
      k[i * B + j] = s / B;
      k[j * B + i] = s / B;
    }
  }
  return k;
}

/** (1/B) G G^T for per-sample gradients given as one [B, ...] tensor (rows flattened). */
export function gramOfPerSample(g: tf.Tensor): Float64Array {
  const B = g.shape[0]!;
  const n = g.size / B;
  const v = g.dataSync() as Float32Array;
  const k = new Float64Array(B * B);
  for (let i = 0; i < B; i++) {
    for (let j = i; j < B; j++) {
      const s = dot(v, i * n, v, j * n, n) / B;
      k[i * B + j] = s;
      k[j * B + i] = s;
    }
  }
  return k;
}

/**
 * Grams of every scope from the traced deltas, plus the per-sample gradients of the parameters
 * the dense layers do not cover (traced.uncovered, in that order, each [B, ...shape]).
 */
export function gopGramsFromTrace(model: Model, traced: TracedDeltas, uncoveredGrads: readonly tf.Tensor[]): GopGrams {
  const B = traced.batchSize;
  if (uncoveredGrads.length !== traced.uncovered.length) throw new Error('one per-sample gradient tensor per uncovered parameter');
  const scopes: ScopeGram[] = traced.layers.map((l) => ({ scope: l.layer.name, gram: denseLayerGram(l, B) }));
  traced.uncovered.forEach((v, k) => {
    scopes.push({ scope: model.paramNames[model.params.indexOf(v)] ?? v.name, gram: gramOfPerSample(uncoveredGrads[k]!) });
  });
  const total = new Float64Array(B * B);
  for (const { gram } of scopes) for (let e = 0; e < total.length; e++) total[e]! += gram[e]!;
  return { batchSize: B, total, scopes };
}

/** Trace, fallback loop for uncovered parameters, Grams; frees every tensor it made. */
export function gopGrams<Y extends tf.Tensor>(model: Model, lossFn: PerSampleLoss<Y>, batch: ProbeBatch<Y>): GopGrams {
  const traced = traceDeltas(model, lossFn, batch);
  try {
    const fallback = perSampleGradientsByLoop(model, lossFn, batch, traced.uncovered);
    try {
      return gopGramsFromTrace(model, traced, fallback);
    } finally {
      tf.dispose(fallback);
    }
  } finally {
    traced.dispose();
  }
}
