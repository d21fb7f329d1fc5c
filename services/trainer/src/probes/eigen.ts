// Eigen-decomposition of a small dense symmetric matrix in float64 plain JS: cyclic Jacobi.
// Used for the B x B Gram matrices of the GOP probe (B <= 256) and by the tests' brute-force
// checks. Jacobi is slower than tridiagonalisation + QL but simple, unconditionally stable and
// accurate to a few ulps of ||A|| for every eigenvalue, which is what the spectrum summaries need.

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
  if (!Number.isInteger(n) || n < 0) throw new Error(`symmetricEigen: bad size ${n}`);
  if (a.length !== n * n) throw new Error(`symmetricEigen: expected ${n * n} entries for ${n} x ${n}, got ${a.length}`);
  const wantVectors = options.vectors ?? false;
  const maxSweeps = options.maxSweeps ?? 100;

  // Working copy, mirrored from the upper triangle.
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = a[i * n + j]!;
      if (!Number.isFinite(v)) throw new Error(`symmetricEigen: non-finite entry at (${i}, ${j})`);
      m[i * n + j] = v;
      m[j * n + i] = v;
    }
  }
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
  const values = Float64Array.from(order, (i) => m[i * n + i]!);
  if (!vec) return { values, sweeps };
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    for (let r = 0; r < n; r++) vectors[r * n + dst] = vec[r * n + src]!;
  });
  return { values, vectors, sweeps };
}

/** Eigenvalues only, descending. */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number): Float64Array {
  return symmetricEigen(a, n).values;
}

function identity(n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}
