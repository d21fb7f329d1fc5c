// The arithmetic of the GOP Gram matrices (gram.ts explains them), with no TensorFlow in it: it
// runs on numbers already read back from the backend, on the training thread or in the probe
// summarizer's worker (summarizer.ts), and gives the same float64 result in both.

/** A dense layer's probe rows, read back: R rows per sample, sample-major. */
export interface LayerRows {
  scope: string;
  batchSize: number;
  /** Rows per sample (positions over all the layer's uses). */
  rowsPerSample: number;
  /** Whether the layer has a bias (adds 1 to every a_p . a_q). */
  bias: boolean;
  nIn: number;
  nOut: number;
  /** Inputs a, [B*R, nIn] row-major. */
  inputs: Float32Array;
  /** Deltas δ, [B*R, nOut] row-major. */
  deltas: Float32Array;
}

/** Per-sample gradients of a parameter no dense layer owns, read back: [B, n] row-major. */
export interface PerSampleRows {
  scope: string;
  batchSize: number;
  values: Float32Array;
}

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
 * The Gram of the rows of x (n rows of `width`), accumulated in float64, n x n row-major. Four
 * rows q at a time share each read of row p (about 2x faster than one dot product at a time).
 */
export function rowGram(x: Float32Array, n: number, width: number): Float64Array {
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
export function gramOfLayerRows(l: LayerRows): Float64Array {
  const B = l.batchSize;
  const R = l.rowsPerSample;
  const bias = l.bias ? 1 : 0;
  const n = B * R;
  if (l.inputs.length !== n * l.nIn || l.deltas.length !== n * l.nOut) {
    throw new Error(
      `gram of ${l.scope}: expected ${n} rows of ${l.nIn} inputs and ${l.nOut} deltas, got ${l.inputs.length} input and ${l.deltas.length} delta values`,
    );
  }
  const ga = rowGram(l.inputs, n, l.nIn);
  const gd = rowGram(l.deltas, n, l.nOut);
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

/** (1/B) G G^T of per-sample gradients (rows of `values`). */
export function gramOfPerSampleRows({ batchSize: B, values: v }: PerSampleRows): Float64Array {
  const n = v.length / B;
  if (!Number.isInteger(n)) throw new Error(`gram of per-sample gradients: ${v.length} values are not ${B} equal rows`);
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

/** Every scope's Gram (dense layers first, in order, then the other parameters) and their sum. */
export function gramsOfRows(batchSize: number, layers: readonly LayerRows[], others: readonly PerSampleRows[]): GopGrams {
  const scopes: ScopeGram[] = [
    ...layers.map((l) => ({ scope: l.scope, gram: gramOfLayerRows(l) })),
    ...others.map((o) => ({ scope: o.scope, gram: gramOfPerSampleRows(o) })),
  ];
  const total = new Float64Array(batchSize * batchSize);
  for (const { gram } of scopes) for (let e = 0; e < total.length; e++) total[e]! += gram[e]!;
  return { batchSize, total, scopes };
}
