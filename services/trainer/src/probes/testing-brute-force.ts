// Brute-force references for the probe tests: explicit per-sample gradients (one tf.grads call per
// sample), explicit M x M matrices in float64, and a float64 Hessian by second differences of the
// plain-JS twin of a test model (no tfjs involved at all).
import { tf } from '../tf.ts';
import type { Model } from '../models/model.ts';
import { referenceLoss, type TestLossKind, type TestModel } from './testing-models.ts';

/** Each parameter's values as float64, in params order. */
export function paramsFloat64(model: Model): Float64Array[] {
  return model.params.map((p) => Float64Array.from(p.dataSync()));
}

export function paramCount(model: Model): number {
  return model.params.reduce((n, p) => n + p.size, 0);
}

/** Per-sample gradients g_i (float64 copies of float32 tf.grads), one B-loop, flattened in params order. */
export function explicitPerSampleGradients(
  model: Model,
  lossFn: (out: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor1D,
  x: tf.Tensor2D,
  y: tf.Tensor2D,
): Float64Array[] {
  const B = x.shape[0];
  const M = paramCount(model);
  return Array.from({ length: B }, (_, i) => {
    const g = new Float64Array(M);
    tf.tidy(() => {
      const xi = tf.slice(x, [i, 0], [1, -1]);
      const yi = tf.slice(y, [i, 0], [1, -1]);
      const { grads } = tf.variableGrads(() => tf.sum(lossFn(model.forward(xi), yi)) as tf.Scalar, model.params);
      let off = 0;
      for (const p of model.params) {
        const gp = grads[p.name];
        if (gp) g.set(gp.dataSync(), off);
        off += p.size;
      }
    });
    return g;
  });
}

/** (1/B) sum_i g_i g_i^T, M x M row-major. */
export function explicitGop(g: readonly Float64Array[]): Float64Array {
  const B = g.length;
  const M = g[0]!.length;
  const gop = new Float64Array(M * M);
  for (const gi of g) for (let a = 0; a < M; a++) for (let b = 0; b < M; b++) gop[a * M + b]! += (gi[a]! * gi[b]!) / B;
  return gop;
}

/** (1/B) G^T G, B x B, restricted to the parameter index range [from, to). */
export function explicitGram(g: readonly Float64Array[], from = 0, to = g[0]!.length): Float64Array {
  const B = g.length;
  const k = new Float64Array(B * B);
  for (let i = 0; i < B; i++)
    for (let j = 0; j < B; j++) {
      let s = 0;
      for (let m = from; m < to; m++) s += g[i]![m]! * g[j]![m]!;
      k[i * B + j] = s / B;
    }
  return k;
}

/** Offsets of each parameter in the flattened vector: [start, end) per params index. */
export function paramRanges(model: Model): Array<[number, number]> {
  let off = 0;
  return model.params.map((p) => {
    const r: [number, number] = [off, off + p.size];
    off += p.size;
    return r;
  });
}

/** Mean loss over the batch from the float64 twin, at flattened parameters theta. */
export function referenceMeanLoss(
  model: TestModel,
  kind: TestLossKind,
  theta: Float64Array,
  xRows: readonly Float64Array[],
  yRows: readonly Float64Array[],
): number {
  const parts: Float64Array[] = [];
  let off = 0;
  for (const p of model.params) {
    parts.push(theta.subarray(off, off + p.size));
    off += p.size;
  }
  let sum = 0;
  xRows.forEach((x, i) => (sum += referenceLoss(kind, model.reference(parts, x), yRows[i]!)));
  return sum / xRows.length;
}

/**
 * Hessian of the mean loss in float64 by central second differences of the loss, step h:
 * H_ab ≈ [L(+a+b) - L(+a-b) - L(-a+b) + L(-a-b)] / (4 h^2). Truncation O(h^2) and rounding
 * O(eps |L| / h^2): about 1e-8 with h = 1e-4, far below the 1e-4 tolerance of the tests.
 */
export function hessianBySecondDifferences(
  model: TestModel,
  kind: TestLossKind,
  xRows: readonly Float64Array[],
  yRows: readonly Float64Array[],
  h = 1e-4,
): Float64Array {
  const theta0 = new Float64Array(paramCount(model));
  let off = 0;
  for (const p of paramsFloat64(model)) {
    theta0.set(p, off);
    off += p.length;
  }
  const M = theta0.length;
  const L = (da: number, sa: number, db: number, sb: number) => {
    const t = Float64Array.from(theta0);
    t[da]! += sa * h;
    t[db]! += sb * h;
    return referenceMeanLoss(model, kind, t, xRows, yRows);
  };
  const H = new Float64Array(M * M);
  for (let a = 0; a < M; a++)
    for (let b = a; b < M; b++) {
      const v = (L(a, 1, b, 1) - L(a, 1, b, -1) - L(a, -1, b, 1) + L(a, -1, b, -1)) / (4 * h * h);
      H[a * M + b] = v;
      H[b * M + a] = v;
    }
  return H;
}

/** Largest |difference| relative to the largest |reference| entry. */
export function maxRelativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  let err = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!));
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
  }
  return scale === 0 ? err : err / scale;
}

export function relativeError(got: number, want: number): number {
  return Math.abs(got - want) / Math.max(Math.abs(want), Number.MIN_VALUE);
}
