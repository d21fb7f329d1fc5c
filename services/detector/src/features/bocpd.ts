// Bayesian online change-point detection (Adams & MacKay 2007): a posterior over "how many
// samples since the last change" for a piecewise-constant-mean-and-variance signal. Unlike the
// threshold tests it yields a probability, and it adapts to the noise level it observes.
import type { OperatorFunction } from 'rxjs';
import type { Sample } from '../views.ts';
import { featureOperator, requireFinite, requireInteger, requirePositive } from './internal.ts';
import { logStudentT } from './numeric.ts';

export interface BocpdOptions {
  /** Constant hazard: prior probability of a change before any sample, in (0, 1) (≈ 1 / expected run). */
  hazard: number;
  /** Normal-Gamma prior of each segment's (mean, precision): mean guess, */
  mu0: number;
  /** its strength in pseudo-samples (> 0), */
  kappa0: number;
  /** and the Gamma shape (> 0) and rate (> 0) of the precision (prior variance guess ≈ beta0/alpha0). */
  alpha0: number;
  beta0: number;
  /** Longest run length tracked (integer >= 1): memory and time per sample are O(maxRunLength). */
  maxRunLength: number;
}

export interface BocpdOutput {
  step: number;
  /** Most probable number of earlier samples in the current segment: 0 = this sample starts one. */
  mapRunLength: number;
  /** P(this sample starts a new segment | samples so far). */
  changeProbability: number;
}

/**
 * Run length rₜ = number of samples BEFORE xₜ in xₜ's segment. A change happens before each
 * sample with probability `hazard`, and a new segment's parameters are drawn from the prior, so
 *   P(rₜ = 0, x₁..ₜ)   ∝ H · p(xₜ | prior)
 *   P(rₜ = r+1, x₁..ₜ) ∝ (1 − H) · P(rₜ₋₁ = r | x₁..ₜ₋₁) · p(xₜ | segment of length r+1 before it)
 * with Student-t predictives from the Normal-Gamma posteriors (conjugate update per hypothesis).
 * (This places the change before xₜ, so P(rₜ = 0) is informative; in the paper's indexing it is
 * identically H.) Everything is in log space and renormalized every sample.
 * Truncation: the bin r = maxRunLength means "r ≥ maxRunLength". A hypothesis that would grow past
 * it is merged into it (log-masses added; the statistics of the more probable of the two kept),
 * so no mass is thrown away and mapRunLength saturates at maxRunLength. (Simply dropping the
 * oldest hypothesis and renormalizing discards the dominant "no change" mass on a long flat run
 * every step and makes the MAP jump about.) The first sample starts the first segment: { mapRunLength: 0,
 * changeProbability: 0 }. Emits at every finite sample; non-finite samples are skipped.
 */
export function bocpd(options: BocpdOptions): OperatorFunction<Sample, BocpdOutput> {
  const { hazard } = options;
  if (typeof hazard !== 'number' || !(hazard > 0 && hazard < 1)) {
    throw new Error(`bocpd: hazard must be in (0, 1), got ${String(hazard)}`);
  }
  const mu0 = requireFinite('bocpd: mu0', options.mu0);
  const kappa0 = requirePositive('bocpd: kappa0', options.kappa0);
  const alpha0 = requirePositive('bocpd: alpha0', options.alpha0);
  const beta0 = requirePositive('bocpd: beta0', options.beta0);
  const cap = requireInteger('bocpd: maxRunLength', options.maxRunLength, 1) + 1;
  const logH = Math.log(hazard);
  const log1mH = Math.log1p(-hazard);
  const logPred = (x: number, mu: number, kappa: number, alpha: number, beta: number) =>
    logStudentT(x, 2 * alpha, mu, (beta * (kappa + 1)) / (alpha * kappa));

  return featureOperator(() => {
    // Hypothesis r: log P(r | data) and the Normal-Gamma posterior of its segment (incl. xₜ).
    const logR = new Float64Array(cap);
    const mu = new Float64Array(cap);
    const kappa = new Float64Array(cap);
    const alpha = new Float64Array(cap);
    const beta = new Float64Array(cap);
    let len = 0;

    const absorb = (to: number, x: number, m: number, k: number, a: number, b: number) => {
      mu[to] = (k * m + x) / (k + 1);
      kappa[to] = k + 1;
      alpha[to] = a + 0.5;
      beta[to] = b + (k * (x - m) * (x - m)) / (2 * (k + 1));
    };

    return ({ step, value: x }) => {
      if (len === 0) {
        absorb(0, x, mu0, kappa0, alpha0, beta0);
        logR[0] = 0;
        len = 1;
        return { step, mapRunLength: 0, changeProbability: 0 };
      }
      // Grow every hypothesis by one, from the oldest down (in place). At the cap, the oldest
      // hypothesis is merged into the longest bin instead of growing past it.
      let carry: { logP: number; m: number; k: number; a: number; b: number } | undefined;
      if (len === cap) {
        const o = cap - 1;
        carry = { logP: logR[o]! + log1mH + logPred(x, mu[o]!, kappa[o]!, alpha[o]!, beta[o]!), m: mu[o]!, k: kappa[o]!, a: alpha[o]!, b: beta[o]! };
      }
      for (let r = Math.min(len, cap - 1) - 1; r >= 0; r--) {
        logR[r + 1] = logR[r]! + log1mH + logPred(x, mu[r]!, kappa[r]!, alpha[r]!, beta[r]!);
        absorb(r + 1, x, mu[r]!, kappa[r]!, alpha[r]!, beta[r]!);
      }
      if (carry) {
        const o = cap - 1;
        const grown = logR[o]!;
        const hi = Math.max(grown, carry.logP);
        logR[o] = hi + Math.log(Math.exp(grown - hi) + Math.exp(carry.logP - hi));
        if (carry.logP > grown) absorb(o, x, carry.m, carry.k, carry.a, carry.b);
      }
      logR[0] = logH + logPred(x, mu0, kappa0, alpha0, beta0);
      absorb(0, x, mu0, kappa0, alpha0, beta0);
      len = Math.min(len + 1, cap);
      // Renormalize and find the MAP.
      let max = -Infinity;
      let map = 0;
      for (let r = 0; r < len; r++) {
        if (logR[r]! > max) {
          max = logR[r]!;
          map = r;
        }
      }
      let sum = 0;
      for (let r = 0; r < len; r++) sum += Math.exp(logR[r]! - max);
      const logZ = max + Math.log(sum);
      for (let r = 0; r < len; r++) logR[r] = logR[r]! - logZ;
      return { step, mapRunLength: map, changeProbability: Math.exp(logR[0]!) };
    };
  });
}
