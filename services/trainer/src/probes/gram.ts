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
import { uncoveredGradients } from './per-sample-gradients.ts';
import { gramOfLayerRows, gramOfPerSampleRows, gramsOfRows, type GopGrams, type LayerRows, type PerSampleRows } from './gram-math.ts';

export type { GopGrams, ScopeGram } from './gram-math.ts';

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

/** A dense layer's inputs and deltas on the probe batch, read back (sample-major rows). */
export function layerRows({ layer, uses }: LayerDeltas, batchSize: number): LayerRows {
  const [nIn, nOut] = layer.weight.shape as [number, number];
  return {
    scope: layer.name,
    batchSize,
    rowsPerSample: uses.reduce((n, u) => n + u.positions, 0),
    bias: Boolean(layer.bias),
    nIn,
    nOut,
    inputs: sampleMajorRows(uses, batchSize, nIn, (u) => u.input),
    deltas: sampleMajorRows(uses, batchSize, nOut, (u) => u.delta),
  };
}

/** K of one dense layer from its traced inputs and deltas (gram-math.ts, gramOfLayerRows). */
export function denseLayerGram(l: LayerDeltas, batchSize: number): Float64Array {
  return gramOfLayerRows(layerRows(l, batchSize));
}

/** (1/B) G G^T for per-sample gradients given as one [B, ...] tensor (rows flattened). */
export function gramOfPerSample(g: tf.Tensor): Float64Array {
  return gramOfPerSampleRows({ scope: '', batchSize: g.shape[0]!, values: g.dataSync() as Float32Array });
}

/**
 * What the Grams are made of, read back from the backend: every traced dense layer's rows and the
 * per-sample gradients of the parameters the dense layers do not cover (traced.uncovered, in that
 * order, each [B, ...shape]). gramsOfRows turns them into the Grams, here or in a worker.
 */
export function gramRows(model: Model, traced: TracedDeltas, uncoveredGrads: readonly tf.Tensor[]): { layers: LayerRows[]; others: PerSampleRows[] } {
  const B = traced.batchSize;
  if (uncoveredGrads.length !== traced.uncovered.length) throw new Error('one per-sample gradient tensor per uncovered parameter');
  return {
    layers: traced.layers.map((l) => layerRows(l, B)),
    others: traced.uncovered.map((v, k) => ({
      scope: model.paramNames[model.params.indexOf(v)] ?? v.name,
      batchSize: B,
      values: uncoveredGrads[k]!.dataSync() as Float32Array,
    })),
  };
}

/** Grams of every scope from the traced deltas and the uncovered parameters' per-sample gradients. */
export function gopGramsFromTrace(model: Model, traced: TracedDeltas, uncoveredGrads: readonly tf.Tensor[]): GopGrams {
  const { layers, others } = gramRows(model, traced, uncoveredGrads);
  return gramsOfRows(traced.batchSize, layers, others);
}

/** Trace, fallback loop for uncovered parameters, Grams; frees every tensor it made. */
export function gopGrams<Y extends tf.Tensor>(model: Model, lossFn: PerSampleLoss<Y>, batch: ProbeBatch<Y>): GopGrams {
  const traced = traceDeltas(model, lossFn, batch);
  try {
    const fallback = uncoveredGradients(model, lossFn, batch, traced);
    try {
      return gopGramsFromTrace(model, traced, fallback);
    } finally {
      tf.dispose(fallback);
    }
  } finally {
    traced.dispose();
  }
}
