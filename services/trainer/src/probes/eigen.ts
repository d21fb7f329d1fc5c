// Eigen-decomposition of a small dense symmetric matrix in float64 plain JS, for the B x B Gram
// matrices of the GOP probe (B <= 256) and the tests' brute-force checks. Two routes:
// - eigenvalues only (every probe step): Householder reduction to tridiagonal form, then the
//   implicit QL algorithm with shifts (Golub & Van Loan, "Matrix Computations", 8.3; EISPACK's
//   tql1). About 4n^3/3 flops: ~0.3 ms at n = 64, where cyclic Jacobi took ~5 ms.
// - eigenvectors too (tests, brute force): cyclic Jacobi, slower but simple.
// Both are backward stable: every eigenvalue is accurate to a few ulps of ||A||, which is what
// the spectrum summaries need (their rank tolerance is 1e-6 of the largest).

export interface SymmetricEigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** Row-major n x n; column j is the unit eigenvector of values[j]. Only when asked for. */
  vectors?: Float64Array;
  /** Jacobi sweeps used. */
  sweeps: number;
}

export interface EigenOptions {
  /** Also return eigenvectors (default false). */
  vectors?: boolean;
  /** Give up after this many sweeps (default 100; Jacobi converges quadratically, ~6-10 sweeps). */
  maxSweeps?: number;
}

/**
 * Eigenvalues (descending) and optionally eigenvectors of the symmetric n x n matrix `a`
 * (row-major, length n*n). Only the upper triangle is read, so a matrix that is symmetric up to
 * rounding is treated as its upper triangle mirrored. `a` is not modified.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number, options: EigenOptions = {}): SymmetricEigen {
  const wantVectors = options.vectors ?? false;
  const maxSweeps = options.maxSweeps ?? 100;
  const { m, scale } = workingCopy(a, n, 'symmetricEigen');
  const vec = wantVectors ? identity(n) : undefined;

  let frob2 = 0;
  for (let k = 0; k < n * n; k++) frob2 += m[k]! * m[k]!;
  // Stop when the off-diagonal mass is at rounding level relative to the whole matrix.
  const tol2 = frob2 * 1e-32;

  let sweeps = 0;
  for (; sweeps < maxSweeps; sweeps++) {
    let off2 = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off2 += 2 * m[p * n + q]! * m[p * n + q]!;
    if (off2 <= tol2) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (apq === 0) continue;
        const app = m[p * n + p]!;
        const aqq = m[q * n + q]!;
        // Rotation J (J_pp = J_qq = c, J_pq = s, J_qp = -s) with (J^T A J)_pq = 0 (Golub & Van
        // Loan, sym.schur2); t = tan(theta) is the smaller root, so |theta| <= pi/4.
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        m[p * n + p] = app - t * apq;
        m[q * n + q] = aqq + t * apq;
        m[p * n + q] = 0;
        m[q * n + p] = 0;
        for (let r = 0; r < n; r++) {
          if (r === p || r === q) continue;
          const arp = m[r * n + p]!;
          const arq = m[r * n + q]!;
          const nrp = c * arp - s * arq;
          const nrq = s * arp + c * arq;
          m[r * n + p] = nrp;
          m[p * n + r] = nrp;
          m[r * n + q] = nrq;
          m[q * n + r] = nrq;
        }
        if (vec) {
          for (let r = 0; r < n; r++) {
            const vrp = vec[r * n + p]!;
            const vrq = vec[r * n + q]!;
            vec[r * n + p] = c * vrp - s * vrq;
            vec[r * n + q] = s * vrp + c * vrq;
          }
        }
      }
    }
  }
  if (sweeps === maxSweeps) throw new Error(`symmetricEigen: no convergence in ${maxSweeps} sweeps (n = ${n})`);

  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[j * n + j]! - m[i * n + i]!);
  const values = Float64Array.from(order, (i) => m[i * n + i]! * scale);
  if (!vec) return { values, sweeps };
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    for (let r = 0; r < n; r++) vectors[r * n + dst] = vec[r * n + src]!;
  });
  return { values, vectors, sweeps };
}

/**
 * Eigenvalues only, descending, by tridiagonalisation + implicit QL (see the top of the file).
 * Reads only the upper triangle, like symmetricEigen.
 */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number): Float64Array {
  const { m, scale } = workingCopy(a, n, 'symmetricEigenvalues');
  const { diagonal, offDiagonal } = tridiagonalize(m, n);
  let values: Float64Array;
  try {
    values = tridiagonalEigenvalues(diagonal, offDiagonal);
  } catch (err) {
    // QL did not converge (never seen since the absolute deflation test; kept as a safety net):
    // Jacobi always does, only slower.
    if (!(err instanceof NoConvergence)) throw err;
    return symmetricEigen(a, n).values;
  }
  for (let k = 0; k < n; k++) values[k]! *= scale;
  return values.sort().reverse();
}

class NoConvergence extends Error {}

/**
 * The working copy of both routes: mirrored from the upper triangle, and scaled to a largest entry
 * of 1 so that no square under- or overflows (Gram entries of 1e-200 or 1e150 happen); `scale` is
 * what the eigenvalues are multiplied by afterwards (1 for the zero matrix).
 */
function workingCopy(a: ArrayLike<number>, n: number, caller: string): { m: Float64Array; scale: number } {
  if (!Number.isInteger(n) || n < 0) throw new Error(`${caller}: bad size ${n}`);
  if (a.length !== n * n) throw new Error(`${caller}: expected ${n * n} entries for ${n} x ${n}, got ${a.length}`);
  const m = new Float64Array(n * n);
  let scale = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = a[i * n + j]!;
      if (!Number.isFinite(v)) throw new Error(`${caller}: non-finite entry at (${i}, ${j})`);
      m[i * n + j] = v;
      m[j * n + i] = v;
      scale = Math.max(scale, Math.abs(v));
    }
  }
  if (scale === 0) return { m, scale: 1 };
  for (let k = 0; k < m.length; k++) m[k]! /= scale;
  return { m, scale };
}

/**
 * Householder reduction of the symmetric n x n matrix m (row-major; only its upper triangle is
 * read and updated, and it is overwritten) to a
 * tridiagonal matrix with the same eigenvalues: Q^T m Q = T, Q never formed. Step k reflects
 * column k below the sub-diagonal onto its first entry: H = I - beta v v^T, and the trailing
 * block A22 becomes H A22 H = A22 - v w^T - w v^T with p = beta A22 v, w = p - (beta p.v / 2) v.
 */
function tridiagonalize(m: Float64Array, n: number): { diagonal: Float64Array; offDiagonal: Float64Array } {
  const diagonal = new Float64Array(n);
  const offDiagonal = new Float64Array(Math.max(0, n - 1));
  const v = new Float64Array(n);
  const w = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    let norm2 = 0;
    // Column k below the diagonal is row k right of it (symmetric; only the upper triangle is kept).
    for (let i = k + 1; i < n; i++) norm2 += m[k * n + i]! * m[k * n + i]!;
    diagonal[k] = m[k * n + k]!;
    if (norm2 === 0) {
      offDiagonal[k] = 0; // nothing below the diagonal: no reflection
      continue;
    }
    const x0 = m[k * n + k + 1]!;
    // H x = alpha e1 with alpha of the sign opposite to x0, so v = x - alpha e1 has no cancellation.
    const alpha = x0 >= 0 ? -Math.sqrt(norm2) : Math.sqrt(norm2);
    let vv = 0;
    for (let i = k + 1; i < n; i++) {
      v[i] = m[k * n + i]! - (i === k + 1 ? alpha : 0);
      vv += v[i]! * v[i]!;
    }
    const beta = 2 / vv;
    // p = beta A22 v from the upper triangle only (each stored entry serves both (i, j) and (j, i)).
    for (let i = k + 1; i < n; i++) w[i] = m[i * n + i]! * v[i]!;
    for (let i = k + 1; i < n; i++) {
      const vi = v[i]!;
      let s = 0;
      for (let j = i + 1; j < n; j++) {
        const a = m[i * n + j]!;
        s += a * v[j]!;
        w[j]! += a * vi;
      }
      w[i]! += s;
    }
    let pv = 0;
    for (let i = k + 1; i < n; i++) {
      w[i]! *= beta;
      pv += w[i]! * v[i]!;
    }
    const half = (beta * pv) / 2;
    for (let i = k + 1; i < n; i++) w[i]! -= half * v[i]!;
    // The rank-2 update, upper triangle only (the lower one is never read again).
    for (let i = k + 1; i < n; i++) {
      const vi = v[i]!;
      const wi = w[i]!;
      for (let j = i; j < n; j++) m[i * n + j]! -= vi * w[j]! + wi * v[j]!;
    }
    offDiagonal[k] = alpha;
  }
  if (n >= 2) {
    diagonal[n - 2] = m[(n - 2) * n + n - 2]!;
    offDiagonal[n - 2] = m[(n - 2) * n + n - 1]!;
  }
  if (n >= 1) diagonal[n - 1] = m[(n - 1) * n + n - 1]!;
  return { diagonal, offDiagonal };
}

/**
 * Eigenvalues of the symmetric tridiagonal matrix (d on the diagonal, e[i] coupling i and i+1),
 * unsorted, by the implicit QL algorithm: for each leading index l, QL sweeps with a shift from
 * the 2 x 2 block at l, chasing the bulge upwards from the first negligible coupling m, until
 * e[l] is negligible against its diagonal neighbours. d is overwritten and returned.
 */
/** sqrt(a^2 + b^2) without Math.hypot's cost (it dominated the QL sweeps), scaled when a^2 + b^2 would over- or underflow. */
function hypot(a: number, b: number): number {
  const r = Math.sqrt(a * a + b * b);
  if (r > 1e-150 && r < 1e150) return r;
  const big = Math.max(Math.abs(a), Math.abs(b));
  if (big === 0 || !Number.isFinite(big)) return big;
  const x = a / big;
  const y = b / big;
  return big * Math.sqrt(x * x + y * y);
}

function tridiagonalEigenvalues(d: Float64Array, offDiagonal: Float64Array): Float64Array {
  const n = d.length;
  const e = new Float64Array(n);
  e.set(offDiagonal);
  const MAX_ITERATIONS = 60; // per eigenvalue; it converges cubically, typically in 2-3
  // A coupling is negligible against its neighbours (relative accuracy where it can be had) or
  // against the whole matrix (absolute: eps ||T||, which all our summaries need). Without the
  // absolute test a rank-deficient Gram (rank 3 of 64) left blocks of rounding-level entries that
  // QL chased for ever: a run failed at the slingshot of the transformer example.
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(d[i]!) + Math.abs(e[i]!) + (i > 0 ? Math.abs(e[i - 1]!) : 0));
  const negligible = Number.EPSILON * norm;
  for (let l = 0; l < n; l++) {
    for (let iteration = 0; ; iteration++) {
      let m = l;
      while (m < n - 1 && Math.abs(e[m]!) > negligible && Math.abs(e[m]!) > Number.EPSILON * (Math.abs(d[m]!) + Math.abs(d[m + 1]!))) m++;
      if (m === l) break;
      if (iteration === MAX_ITERATIONS) throw new NoConvergence(`symmetricEigenvalues: no convergence in ${MAX_ITERATIONS} QL iterations (n = ${n})`);
      // Shift: the eigenvalue of the leading 2 x 2 block closer to d[l].
      let g = (d[l + 1]! - d[l]!) / (2 * e[l]!);
      let r = hypot(g, 1);
      g = d[m]! - d[l]! + e[l]! / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let deflated = false;
      for (let i = m - 1; i >= l; i--) {
        const f = s * e[i]!;
        const b = c * e[i]!;
        r = hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          // Underflow: the matrix splits here; recover and start over.
          d[i + 1]! -= p;
          e[m] = 0;
          deflated = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1]! - p;
        r = (d[i]! - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
      }
      if (deflated) continue;
      d[l]! -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  return d;
}

function identity(n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}
