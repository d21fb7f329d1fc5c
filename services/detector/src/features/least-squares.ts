// Least-squares polynomial fits over a SampleWindow, on the actual (possibly uneven) steps.
// Steps are centered on their mean and scaled to [-1, 1], values centered on their mean, so the
// normal equations stay well conditioned even at step 1e6 with tiny changes in value.
import type { SampleWindow } from './internal.ts';

export interface LineFit {
  slope: number;
  meanStep: number;
  meanValue: number;
  /** Samples fitted. */
  n: number;
  /** Standard error of the slope, sqrt(σ̂² / Σ(t − t̄)²) with σ̂² = SSres / (n − 2); null for n < 3. */
  stderr: number | null;
  /** σ̂, the residual standard deviation around the line; null for n < 3. */
  residualStd: number | null;
}

/** y ≈ meanValue + slope · (step − meanStep). Null when all steps are equal (or < 2 samples). */
export function fitLine(w: SampleWindow): LineFit | null {
  const n = w.length;
  if (n < 2) return null;
  let ts = 0;
  let ys = 0;
  w.forEach((t, y) => {
    ts += t;
    ys += y;
  });
  const meanStep = ts / n;
  const meanValue = ys / n;
  let sxx = 0;
  let sxy = 0;
  w.forEach((t, y) => {
    const u = t - meanStep;
    sxx += u * u;
    sxy += u * (y - meanValue);
  });
  if (!(sxx > 0)) return null;
  const slope = sxy / sxx;
  if (n < 3) return { slope, meanStep, meanValue, n, stderr: null, residualStd: null };
  let ssRes = 0;
  w.forEach((t, y) => {
    const r = y - meanValue - slope * (t - meanStep);
    ssRes += r * r;
  });
  const variance = ssRes / (n - 2);
  return { slope, meanStep, meanValue, n, stderr: Math.sqrt(variance / sxx), residualStd: Math.sqrt(variance) };
}

/**
 * y ≈ a·(step − center)² + b·(step − center) + c, with center = the mean step.
 * `ssRes`/`ssTot` are the residual and total sums of squares. Null when fewer than 3 distinct
 * steps make the fit singular.
 */
export interface QuadraticFit {
  a: number;
  b: number;
  c: number;
  center: number;
  ssRes: number;
  ssTot: number;
  /** The fit in scaled units u = (step − center)/spread ∈ [−1, 1], for scale-free tests. */
  scaled: { a: number; b: number };
}

export function fitQuadratic(w: SampleWindow): QuadraticFit | null {
  const n = w.length;
  if (n < 3) return null;
  let ts = 0;
  let ys = 0;
  w.forEach((t, y) => {
    ts += t;
    ys += y;
  });
  const center = ts / n;
  const meanValue = ys / n;
  let spread = 0;
  w.forEach((t) => {
    spread = Math.max(spread, Math.abs(t - center));
  });
  if (!(spread > 0)) return null;
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  let t0 = 0;
  let t1 = 0;
  let t2 = 0;
  let ssTot = 0;
  w.forEach((t, y) => {
    const u = (t - center) / spread;
    const v = y - meanValue;
    const u2 = u * u;
    s2 += u2;
    s3 += u2 * u;
    s4 += u2 * u2;
    t0 += v;
    t1 += u * v;
    t2 += u2 * v;
    ssTot += v * v;
  });
  // Normal equations for v ≈ A u² + B u + C (Σu = 0 after centering):
  //   [s4 s3 s2] [A]   [t2]
  //   [s3 s2 0 ] [B] = [t1]
  //   [s2 0  n ] [C]   [t0]
  const det = s4 * (s2 * n) - s3 * (s3 * n) + s2 * (0 - s2 * s2);
  if (!(Math.abs(det) > 1e-12 * s4 * s2 * n)) return null;
  const A = (t2 * (s2 * n) - s3 * (t1 * n) + s2 * (0 - s2 * t0)) / det;
  const B = (s4 * (t1 * n) - t2 * (s3 * n) + s2 * (s3 * t0 - t1 * s2)) / det;
  const C = (s4 * (s2 * t0) - s3 * (s3 * t0 - t1 * s2) + t2 * (0 - s2 * s2)) / det;
  let ssRes = 0;
  w.forEach((t, y) => {
    const u = (t - center) / spread;
    const r = y - meanValue - (A * u * u + B * u + C);
    ssRes += r * r;
  });
  return {
    a: A / (spread * spread),
    b: B / spread,
    c: meanValue + C,
    center,
    ssRes,
    ssTot,
    scaled: { a: A, b: B },
  };
}

/**
 * The hinge of "flat, then a straight rise": the t₀ among the points' steps (all but the last)
 * minimizing the squared error of y ≈ a + b·max(0, t − t₀) with b > 0. For each candidate the fit
 * is a simple regression on x = max(0, t − t₀), so SSE = Syy − Sxy² / Sxx. O(n²); null when no
 * candidate gives a rise. Points in step order.
 */
export function fitHinge(points: ReadonlyArray<readonly [number, number]>): { step: number; index: number } | null {
  const n = points.length;
  if (n < 3) return null;
  let my = 0;
  for (const [, y] of points) my += y;
  my /= n;
  let best: { step: number; index: number } | null = null;
  let bestSse = Infinity;
  for (let k = 0; k < n - 1; k++) {
    const o = points[k]![0];
    let mx = 0;
    for (const [t] of points) mx += Math.max(0, t - o);
    mx /= n;
    let sxx = 0;
    let sxy = 0;
    let syy = 0;
    for (const [t, y] of points) {
      const x = Math.max(0, t - o) - mx;
      sxx += x * x;
      sxy += x * (y - my);
      syy += (y - my) * (y - my);
    }
    if (!(sxx > 0) || !(sxy > 0)) continue;
    const sse = syy - (sxy * sxy) / sxx;
    if (sse < bestSse) {
      bestSse = sse;
      best = { step: o, index: k };
    }
  }
  return best;
}
