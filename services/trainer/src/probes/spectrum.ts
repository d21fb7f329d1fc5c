// Summary numbers of a GOP spectrum, from the B x B Gram matrix K = (1/B) G^T G.
//
// GOP = (1/B) sum_i g_i g_i^T = (1/B) G G^T (M x M, never formed) and K = (1/B) G^T G share their
// non-zero eigenvalues (G = U S V^T gives both as S^2 / B), so everything below is computed from K.
import { symmetricEigenvalues } from './eigen.ts';

/** Default number of leading eigenvalues reported. */
export const DEFAULT_TOP_K = 8;
/**
 * Default relative tolerance of the numerical rank: an eigenvalue counts when it exceeds
 * tol * (largest eigenvalue). 1e-6 sits well above the float64 rounding of the Gram assembly
 * (~1e-15 relative) and below any direction worth calling part of the spectrum; note that the
 * per-sample gradients themselves come from float32 tensors (~1e-7 relative), so directions
 * weaker than ~1e-7 of the largest are not resolvable anyway.
 */
export const DEFAULT_RANK_TOL = 1e-6;

export interface SpectrumOptions {
  topK?: number;
  rankTol?: number;
}

/** The GopSummary record of ProbeSummary, without its scope. */
export interface SpectrumSummary {
  /** tr(K) = tr(GOP) = (1/B) sum_i ||g_i||^2. */
  trace: number;
  /** ||K||_F = ||GOP||_F = sqrt(sum lambda^2). */
  frobenius: number;
  /** Largest eigenvalue (= spectral norm, K is PSD). */
  spectral: number;
  /** Leading eigenvalues, descending, at most topK (fewer when B < topK). */
  top_eigs: number[];
  /** (sum lambda)^2 / sum lambda^2; 0 for the zero matrix. */
  effective_rank: number;
  /** Number of eigenvalues > rankTol * largest; 0 for the zero matrix. */
  numerical_rank: number;
  /**
   * Largest eigenvalue over the smallest one counted in numerical_rank (so it is finite and
   * describes the span of the gradients, not their null space); 0 when the matrix is zero.
   */
  condition_number: number;
}

/**
 * Summary of the spectrum of a PSD matrix from its eigenvalues (any order). Negative values,
 * which for a Gram matrix are rounding, are clamped to 0.
 */
export function summarizeSpectrum(eigenvalues: ArrayLike<number>, options: SpectrumOptions = {}): SpectrumSummary {
  const topK = options.topK ?? DEFAULT_TOP_K;
  const rankTol = options.rankTol ?? DEFAULT_RANK_TOL;
  const lambda = Array.from(eigenvalues, (v) => Math.max(0, v)).sort((a, b) => b - a);
  const max = lambda[0] ?? 0;
  let sum = 0;
  let sumSq = 0;
  for (const l of lambda) {
    sum += l;
    sumSq += l * l;
  }
  const counted = max > 0 ? lambda.filter((l) => l > rankTol * max) : [];
  const smallest = counted[counted.length - 1] ?? 0;
  return {
    trace: sum,
    frobenius: Math.sqrt(sumSq),
    spectral: max,
    top_eigs: lambda.slice(0, topK),
    effective_rank: sumSq > 0 ? (sum * sum) / sumSq : 0,
    numerical_rank: counted.length,
    condition_number: smallest > 0 ? max / smallest : 0,
  };
}

/**
 * Summary of the symmetric PSD n x n matrix `k` (row-major). Trace and Frobenius norm are taken
 * from the entries (exact up to summation rounding); the rest from its eigenvalues, solved here
 * unless given (graph/mlp-probes.ts computes them with the Gram).
 */
export function summarizeGram(k: ArrayLike<number>, n: number, options: SpectrumOptions = {}, eigenvalues?: ArrayLike<number>): SpectrumSummary {
  const summary = summarizeSpectrum(eigenvalues ?? symmetricEigenvalues(k, n), options);
  let trace = 0;
  let frob2 = 0;
  for (let i = 0; i < n; i++) {
    trace += k[i * n + i]!;
    for (let j = 0; j < n; j++) frob2 += k[i * n + j]! * k[i * n + j]!;
  }
  return { ...summary, trace, frobenius: Math.sqrt(frob2) };
}
