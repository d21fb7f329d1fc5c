import { describe, expect, it } from 'vitest';
import { Rng } from '../random.ts';
import { symmetricEigen, symmetricEigenvalues } from './eigen.ts';

/** Random orthogonal n x n (row-major) as a product of n Householder reflections. */
function randomOrthogonal(n: number, rng: Rng): Float64Array {
  let q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  for (let k = 0; k < n; k++) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    const norm = Math.hypot(...v);
    for (let i = 0; i < n; i++) v[i]! /= norm;
    // q <- q (I - 2 v v^T)
    const next = new Float64Array(n * n);
    for (let r = 0; r < n; r++) {
      let qv = 0;
      for (let c = 0; c < n; c++) qv += q[r * n + c]! * v[c]!;
      for (let c = 0; c < n; c++) next[r * n + c] = q[r * n + c]! - 2 * qv * v[c]!;
    }
    q = next;
  }
  return q;
}

/** Q diag(lambda) Q^T. */
function withSpectrum(lambda: number[], rng: Rng): Float64Array {
  const n = lambda.length;
  const q = randomOrthogonal(n, rng);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k]! * lambda[k]! * q[j * n + k]!;
      a[i * n + j] = s;
    }
  // Exactly symmetric, like the Gram matrices the probes build.
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[i * n + j] = a[j * n + i]!;
  return a;
}

const desc = (xs: number[]) => [...xs].sort((x, y) => y - x);

function expectClose(got: ArrayLike<number>, want: number[], scale: number, tol = 1e-12) {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(tol * scale);
}

/** The two routes to the eigenvalues: both must meet every spectrum test below. */
const routes: Array<[string, (a: ArrayLike<number>, n: number) => Float64Array]> = [
  ['tridiagonal + implicit QL (symmetricEigenvalues)', symmetricEigenvalues],
  ['cyclic Jacobi (symmetricEigen)', (a, n) => symmetricEigen(a, n).values],
];

describe.each(routes)('eigenvalues by %s', (_, eigenvalues) => {
  it('diagonal, 1 x 1, 2 x 2 and empty matrices', () => {
    expectClose(eigenvalues([5, 0, 0, 0, -2, 0, 0, 0, 7], 3), [7, 5, -2], 7);
    expectClose(eigenvalues([4.5], 1), [4.5], 4.5);
    expectClose(eigenvalues([2, 1, 1, 2], 2), [3, 1], 3);
    expect(eigenvalues([], 0).length).toBe(0);
    expectClose(eigenvalues(new Float64Array(16), 4), [0, 0, 0, 0], 1);
  });

  it.each([3, 5, 20, 64, 65])('recovers a known spectrum of size %i (mixed signs, spread magnitudes)', (n) => {
    const rng = new Rng(n);
    const lambda = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -1 : 1) * Math.exp(rng.normal() * 3));
    const a = withSpectrum(lambda, rng);
    const scale = Math.max(...lambda.map(Math.abs));
    expectClose(eigenvalues(a, n), desc(lambda), scale, 1e-12);
  });

  it('repeated eigenvalues and an exact null space (a rank-3 Gram-like matrix)', () => {
    const rng = new Rng(7);
    const lambda = [4, 4, 1, 0, 0, 0, 0, 0];
    expectClose(eigenvalues(withSpectrum(lambda, rng), 8), lambda, 4, 1e-13);
  });

  it('an already tridiagonal matrix, and one that splits into blocks', () => {
    // Path graph Laplacian-like tridiagonal: eigenvalues 2 - 2 cos(k pi / (n + 1)).
    const n = 12;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 2;
      if (i + 1 < n) a[i * n + i + 1] = a[(i + 1) * n + i] = -1;
    }
    const want = desc(Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1))));
    expectClose(eigenvalues(a, n), want, 4, 1e-13);
    // Decoupled at the middle: the two halves' spectra together.
    a[5 * n + 6] = a[6 * n + 5] = 0;
    const half = Array.from({ length: 6 }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / 7));
    expectClose(eigenvalues(a, n), desc([...half, ...half]), 4, 1e-13);
  });

  it('a Gram matrix G^T G of rank r < n: r positive eigenvalues, the rest zero to rounding', () => {
    const rng = new Rng(13);
    const n = 64;
    const r = 10;
    const g = Array.from({ length: r * n }, () => rng.normal());
    const k = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = i; j < n; j++) {
        let s = 0;
        for (let t = 0; t < r; t++) s += g[t * n + i]! * g[t * n + j]!;
        k[i * n + j] = k[j * n + i] = s;
      }
    const values = eigenvalues(k, n);
    let trace = 0;
    for (let i = 0; i < n; i++) trace += k[i * n + i]!;
    expect(values.reduce((x, y) => x + y, 0)).toBeCloseTo(trace, 8);
    expect(values.filter((v) => v > 1e-9 * values[0]!).length).toBe(r);
    for (const v of values.slice(r)) expect(Math.abs(v)).toBeLessThan(1e-12 * values[0]!);
  });

  it('nearly degenerate pair is resolved', () => {
    const rng = new Rng(3);
    const lambda = [1 + 1e-9, 1, 0.5, 1e-8];
    expectClose(eigenvalues(withSpectrum(lambda, rng), 4), lambda, 1, 1e-14);
  });

  it('reads only the upper triangle', () => {
    // Lower triangle garbage must not matter.
    expectClose(eigenvalues([2, 1, 99, 2], 2), [3, 1], 3);
  });

  it('n = 256 (the largest probe batch the GOP probe is meant for)', () => {
    const rng = new Rng(5);
    const n = 256;
    const lambda = Array.from({ length: n }, (_, i) => 1 / (1 + i));
    expectClose(eigenvalues(withSpectrum(lambda, rng), n), lambda, 1, 1e-12);
  });

  it('rejects bad input', () => {
    expect(() => eigenvalues([1, 2, 3], 2)).toThrow(/expected 4/);
    expect(() => eigenvalues([1, NaN, NaN, 1], 2)).toThrow(/non-finite/);
  });
});

describe('symmetricEigenvalues on hard Gram matrices', () => {
  // Gram matrices of r random vectors of spread scales, with zero samples, at extreme magnitudes:
  // the kind that made QL (without an absolute deflation test) chase rounding-level blocks for
  // ever, failing a run at the transformer example's slingshot. Checked against Jacobi.
  it.each([
    [3, 2, 1, 1],
    [1, 5, 1e-200, 3],
    [7, 0, 1e150, 2],
    [20, 10, 1, 4],
    [64, 0, 1e-30, 0],
  ])('rank %i of 64, %i zero samples, entries x %s, scale spread e^(N(0,1) x %i)', (r, zeros, magnitude, spread) => {
    const rng = new Rng(r * 1000 + zeros);
    const n = 64;
    const g = Array.from({ length: r * n }, () => rng.normal() * Math.exp(rng.normal() * spread));
    const k = new Float64Array(n * n);
    for (let i = zeros; i < n; i++)
      for (let j = i; j < n; j++) {
        let s = 0;
        for (let t = 0; t < r; t++) s += g[t * n + i]! * g[t * n + j]!;
        k[i * n + j] = k[j * n + i] = s;
      }
    // Against Jacobi at magnitude 1, scaled; and Jacobi itself at the magnitude (both scale internally).
    const want = Array.from(symmetricEigen(k, n).values, (v) => v * magnitude);
    const scaled = k.map((v) => v * magnitude);
    const got = symmetricEigenvalues(scaled, n);
    expectClose(got, want, want[0]!, 1e-12);
    expectClose(symmetricEigen(scaled, n).values, want, want[0]!, 1e-12);
    expect(got.filter((v) => v > 1e-9 * got[0]!).length).toBe(Math.min(r, n - zeros));
  });
});

describe('symmetricEigen eigenvectors (cyclic Jacobi)', () => {
  it('2 x 2 closed form', () => {
    // [[2, 1], [1, 2]] has eigenvalues 3 and 1 with eigenvectors (1, 1)/√2 and (1, -1)/√2.
    const { values, vectors } = symmetricEigen([2, 1, 1, 2], 2, { vectors: true });
    expectClose(values, [3, 1], 3);
    const v0 = [vectors![0]!, vectors![2]!];
    expect(Math.abs(v0[0]! * Math.SQRT1_2 + v0[1]! * Math.SQRT1_2)).toBeCloseTo(1, 14);
  });

  it('eigenvectors are orthonormal and satisfy A v = lambda v', () => {
    const rng = new Rng(11);
    const n = 16;
    const lambda = Array.from({ length: n }, () => rng.normal());
    const a = withSpectrum(lambda, rng);
    const { values, vectors } = symmetricEigen(a, n, { vectors: true });
    const v = vectors!;
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let k = 0; k < n; k++) av += a[i * n + k]! * v[k * n + j]!;
        expect(Math.abs(av - values[j]! * v[i * n + j]!)).toBeLessThan(1e-12);
      }
      for (let k = 0; k < n; k++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += v[i * n + j]! * v[i * n + k]!;
        expect(Math.abs(dot - (j === k ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
  });
});
