// Gradient noise and signal-to-noise ratio from the whole-model Gram matrix K = (1/B) G^T G.
//
// Definitions (per-sample gradients g_i of the per-sample losses L_i on the probe batch):
//   g_bar     = (1/B) sum_i g_i                      (the mean-loss gradient)
//   Sigma     = (1/B) sum_i (g_i - g_bar)(g_i - g_bar)^T   (biased, 1/B: the batch's own covariance)
//   Tr(Sigma) = (1/B) sum_i ||g_i - g_bar||^2 = (1/B) sum_i ||g_i||^2 - ||g_bar||^2
//   SNR       = ||g_bar||^2 / Tr(Sigma)
// This is the per-SAMPLE SNR; a minibatch of size b has SNR b * SNR (its mean's covariance is
// Sigma / b). In terms of K: (1/B) sum ||g_i||^2 = tr K and ||g_bar||^2 = (1/B^2) sum_ij g_i.g_j
// = (1/B) sum_ij K_ij, so no per-sample gradient is needed beyond the Gram matrix. With K in
// float64 the subtraction loses nothing that matters even when Tr(Sigma) << ||g_bar||^2.

export interface GradientNoise {
  /** Tr(Sigma). */
  trace: number;
  /** ||g_bar||^2. */
  meanGradNormSq: number;
  /** ||g_bar||^2 / Tr(Sigma); null when Tr(Sigma) is 0 (B = 1, or identical per-sample gradients). */
  snr: number | null;
}

/** Tr(Sigma), ||g_bar||^2 and SNR from K = (1/B) G^T G (B x B, row-major). */
export function gradientNoise(k: ArrayLike<number>, batchSize: number): GradientNoise {
  const B = batchSize;
  if (k.length !== B * B) throw new Error(`gradientNoise: expected a ${B} x ${B} Gram matrix`);
  let trace = 0;
  let sum = 0;
  for (let i = 0; i < B; i++) {
    trace += k[i * B + i]!;
    for (let j = 0; j < B; j++) sum += k[i * B + j]!;
  }
  const meanGradNormSq = Math.max(0, sum / B);
  // Tr(Sigma) >= 0 exactly; a tiny negative is rounding.
  const noise = Math.max(0, trace - meanGradNormSq);
  return { trace: noise, meanGradNormSq, snr: noise > 0 ? meanGradNormSq / noise : null };
}
