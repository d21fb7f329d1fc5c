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

/** K of one dense layer (all its uses, all its positions) from its inputs and deltas. */
export function denseLayerGram({ layer, uses }: LayerDeltas, batchSize: number): Float64Array {
  const B = batchSize;
  const [nIn, nOut] = layer.weight.shape as [number, number];
  const bias = layer.bias ? 1 : 0;
  // Each sample's rows over every use and position: offsets into that use's a and δ.
  const data = uses.map((u) => ({ a: u.input.dataSync() as Float32Array, d: u.delta.dataSync() as Float32Array, T: u.positions }));
  const rowsOf = (i: number) => data.flatMap(({ a, d, T }) => Array.from({ length: T }, (_, t) => ({ a, d, r: i * T + t })));
  const rows = Array.from({ length: B }, (_, i) => rowsOf(i));
  const k = new Float64Array(B * B);
  for (let i = 0; i < B; i++) {
    for (let j = i; j < B; j++) {
      let s = 0;
      for (const p of rows[i]!) {
        for (const q of rows[j]!) {
          const dd = dot(p.d, p.r * nOut, q.d, q.r * nOut, nOut);
          if (dd !== 0) s += (dot(p.a, p.r * nIn, q.a, q.r * nIn, nIn) + bias) * dd;
        }
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
