// The expensive probes of one step on a probe batch, as the fields of a ProbeSummary event.
//
// Loss contract (PerSampleLoss): lossFn(output, y) takes the model output [B, C] and the targets
// y (any tensor whose first axis is the batch, e.g. one-hot [B, C]) and returns the per-sample
// losses [B]. Sample i's loss must depend only on row i of output and of y (no batch statistics),
// and the training objective is their MEAN: per-sample gradients g_i are gradients of L_i, and
// the Hessian is that of (1/B) sum_i L_i. For the Hessian probes the model and the loss must use
// only ops tfjs can differentiate twice (second-order-ops.ts explains; crossEntropyPerSample there
// is a drop-in for softmax cross-entropy with one-hot targets).
//
// What each field is (B = probe_batch_size):
//   gop[]              spectrum of GOP = (1/B) sum g_i g_i^T from the B x B Gram matrix, for scope
//                      'model' first, then per dense layer (weight + bias) and per parameter no
//                      dense layer owns (spectrum.ts, gram.ts)
//   grad_noise_trace   Tr(Sigma) = (1/B) sum ||g_i - g_bar||^2; grad_snr = ||g_bar||^2 / Tr(Sigma),
//                      the per-sample SNR (noise.ts)
//   hessian_trace      one Hutchinson sample v^T H v (Rademacher v); hessian_trace_avg the running
//                      average over the calls sharing `state` (hessian.ts)
//   hessian_top_eig    dominant eigenvalue by power iteration warm-started from state (hessian.ts)
//   tr_h_sigma         Tr(H Sigma) = (1/B) sum (g_i - g_bar)^T H (g_i - g_bar): by default the unbiased
//                      estimate from one random sign combination of the centred g_i (1 HVP; the
//                      combination is the gradient of a sign-weighted loss, or from the traced
//                      deltas where they were read anyway), with 'exact' the B quadratic forms
//                      (B HVPs) (hessian.ts)
//   extra.tr_h_sigma_samples the HVPs behind tr_h_sigma (B when exact)
//   extra.fourier_sparsity   share of the non-DC embedding energy in the top-K frequencies
//   extra.fourier_key_freqs  number of frequencies holding energyFraction (0.9) of it (fourier.ts)
//   extra.hessian_skipped    1 when the Hessian probes were skipped (onSecondOrderHazard 'skip')
import type { ProbeSummary } from '@grokstream/schemas';
import { tf } from '../tf.ts';
import type { Model } from '../models/model.ts';
import { traceDeltas, type PerSampleLoss, type ProbeBatch, type TracedDeltas } from './deltas.ts';
import { DEFAULT_ENERGY_FRACTION, DEFAULT_FOURIER_TOP_K, fourierEnergiesOf, sparsityOfEnergies } from './fourier.ts';
import { gramRows } from './gram.ts';
import type { ScopeGram } from './gram-math.ts';
import { summarizeGrams, type EigenvaluesInFlight, type GramEigenvalues, type GramResults, type GramWork } from './summaries.ts';
import {
  createHutchinsonState,
  createPowerIterationState,
  createTraceHSigmaState,
  hutchinsonSample,
  sampledTraceHSigma,
  topHessianEigenvalue,
  traceHSigma,
  type HutchinsonState,
  type Hvp,
  type ParamVector,
  type PowerIterationState,
  type TraceHSigmaState,
} from './hessian.ts';
import { perSampleGradients, uncoveredGradients, weightedGradientSum, weightedLossGradient } from './per-sample-gradients.ts';
import { SecondOrderHazardError } from '../second-order-ops.ts';
import { DEFAULT_RANK_TOL, DEFAULT_TOP_K } from './spectrum.ts';

export type { PerSampleLoss, ProbeBatch } from './deltas.ts';

/** The ProbeSummary fields the probes compute; the loop adds the envelope and elapsed_ms. */
export type ProbeFields = Omit<ProbeSummary, 'event_id' | 'run_id' | 'seq' | 'ts' | 'step' | 'elapsed_ms'>;

/** What persists between probe calls of one run (plain numbers and arrays: checkpointable). */
export interface ProbeState {
  hutchinson: HutchinsonState;
  power: PowerIterationState;
  trHSigma: TraceHSigmaState;
}

export function createProbeState(seed = 0): ProbeState {
  return {
    hutchinson: createHutchinsonState(seed ^ 0x68757463),
    power: createPowerIterationState(seed ^ 0x706f7765),
    trHSigma: createTraceHSigmaState(seed ^ 0x74726873),
  };
}

export interface ProbeOptions {
  /** GOP spectrum summaries. Default on, topK 8, perLayer true, rankTol 1e-6 (spectrum.ts). */
  gop?: { enabled?: boolean; topK?: number; perLayer?: boolean; rankTol?: number };
  /** Tr(Sigma) and SNR. Default on. */
  noise?: boolean;
  /**
   * Hessian probes, each off by default: trace (1 HVP), topEig (powerIters HVPs, default 3,
   * warm-started from the previous call), trHSigma (trHSigmaSamples HVPs, default 1; 'exact': B).
   */
  hessian?: { trace?: boolean; topEig?: boolean; powerIters?: number; trHSigma?: boolean; trHSigmaSamples?: number | 'exact' };
  /**
   * Fourier sparsity of the embedding: rows [rowOffset, rowOffset + p) of the `layer` weight
   * (default: the first dense layer, offset 0, i.e. operand a's one-hot rows, or the token
   * embedding). Off unless given.
   */
  fourier?: false | { p: number; layer?: string; rowOffset?: number; topK?: number; energyFraction?: number };
  /**
   * When the model or loss uses an op tfjs cannot differentiate twice: 'throw' (default) the
   * SecondOrderHazardError, or 'skip' the Hessian probes (null fields, extra.hessian_skipped = 1).
   */
  onSecondOrderHazard?: 'throw' | 'skip';
  /**
   * The first-order reads done elsewhere, as one graph (graph/mlp-probes.ts): the dense layers'
   * Grams and the Fourier energies for this batch and the model's current weights. Used for the
   * GOP, the noise and the Fourier probes whenever no probe needs the traced deltas themselves
   * (exact tr_h_sigma does); the scopes must be the model's dense layers and cover every parameter.
   */
  reader?: FirstOrderReader;
  /** The Hessian-vector product for the Hessian probes (default: op by op; graph/mlp-hessian.ts as one graph). */
  hvp?: Hvp;
  /** sum_i c_i g_i for the sampled Tr(HΣ) (default: weightedLossGradient, op by op; graph/mlp-hessian.ts as one graph). */
  weightedGradient?: (c: Float32Array) => ParamVector;
}

/** What a FirstOrderReader returns: per-scope Grams (B × B) and, with the Fourier probe, its energies. */
export interface FirstOrderReading {
  scopes: ScopeGram[];
  /** Their sum: the model's K. */
  total: Float64Array;
  /** Their eigenvalues and those of their sum (or those being solved); none when not asked for. */
  eigenvalues?: GramEigenvalues | EigenvaluesInFlight;
  fourierEnergies?: Float64Array;
}

export interface FirstOrderReader {
  /**
   * The reading; its arrays may be reused by the next read (the probe pipeline is done with them by
   * then). `spectra: false`: the eigenvalues are not wanted (GOP off), so none are solved.
   */
  read(asks?: { spectra?: boolean }): FirstOrderReading;
}

/**
 * The probes read at one step: every field the backend computes, and what is left of the GOP and
 * noise probes (`work`, plain numbers; summaries.ts) to complete them with completeProbes().
 */
export interface ProbeReading {
  fields: ProbeFields;
  work?: GramWork;
}

/**
 * Runs the enabled probes on one probe batch and returns the ProbeSummary fields. Synchronous
 * (tensor reads use dataSync, fine on the cpu, wasm and tensorflow backends). Every tensor it
 * creates is disposed; `state` is updated in place (Hutchinson average, power-iteration vector).
 */
export function runProbes<Y extends tf.Tensor>(
  model: Model,
  lossFn: PerSampleLoss<Y>,
  batch: ProbeBatch<Y>,
  state: ProbeState,
  options: ProbeOptions = {},
): ProbeFields {
  const reading = readProbes(model, lossFn, batch, state, options);
  return completeProbes(reading, reading.work && summarizeGrams(reading.work));
}

/** The reading's fields with the GOP and noise results of its work (summarizeGrams) filled in. */
export function completeProbes(reading: ProbeReading, results: GramResults | undefined): ProbeFields {
  if (!reading.work) return reading.fields;
  if (!results) throw new Error('the probe reading has GOP or noise work to complete: pass its results');
  return { ...reading.fields, gop: results.gop, grad_noise_trace: results.grad_noise_trace, grad_snr: results.grad_snr };
}

/**
 * runProbes up to the arithmetic: the backend work (trace, per-sample gradients, Hessian-vector
 * products, Fourier) and the reads, with the GOP and noise arithmetic left in `work`.
 */
export function readProbes<Y extends tf.Tensor>(
  model: Model,
  lossFn: PerSampleLoss<Y>,
  batch: ProbeBatch<Y>,
  state: ProbeState,
  options: ProbeOptions = {},
): ProbeReading {
  const B = batch.x.shape[0];
  const gopOn = options.gop?.enabled ?? true;
  const noiseOn = options.noise ?? true;
  const h = options.hessian ?? {};
  const fields: ProbeFields = {
    probe_batch_size: B,
    grad_noise_trace: null,
    grad_snr: null,
    tr_h_sigma: null,
    hessian_trace: null,
    hessian_trace_avg: null,
    hessian_top_eig: null,
    gop: [],
    extra: {},
  };

  let traced: TracedDeltas | undefined;
  let work: GramWork | undefined;
  const owned: tf.Tensor[] = [];
  try {
    let fallback: tf.Tensor[] = [];
    // Exact Tr(HΣ) takes the per-sample gradients themselves (traced deltas); the sampled one
    // needs only a weighted gradient (weightedLossGradient), so the reader serves beside it.
    const exactTrHSigma = h.trHSigma === true && h.trHSigmaSamples === 'exact';
    const read = options.reader && !exactTrHSigma && (gopOn || noiseOn || options.fourier) ? options.reader.read({ spectra: gopOn }) : undefined;
    if (read && (gopOn || noiseOn)) {
      work = {
        batchSize: B,
        layers: [],
        others: [],
        grams: { batchSize: B, total: read.total, scopes: read.scopes },
        eigenvalues: read.eigenvalues,
        gop: gopOn ? { topK: options.gop?.topK ?? DEFAULT_TOP_K, rankTol: options.gop?.rankTol ?? DEFAULT_RANK_TOL, perLayer: options.gop?.perLayer ?? true } : undefined,
        noise: noiseOn,
      };
    } else if (!read && (gopOn || noiseOn || exactTrHSigma)) {
      traced = traceDeltas(model, lossFn, batch);
      fallback = uncoveredGradients(model, lossFn, batch, traced);
      owned.push(...fallback);
      if (gopOn || noiseOn) {
        work = {
          batchSize: B,
          ...gramRows(model, traced, fallback),
          gop: gopOn
            ? { topK: options.gop?.topK ?? DEFAULT_TOP_K, rankTol: options.gop?.rankTol ?? DEFAULT_RANK_TOL, perLayer: options.gop?.perLayer ?? true }
            : undefined,
          noise: noiseOn,
        };
      }
    }

    if (h.trace || h.topEig || h.trHSigma) {
      try {
        if (h.trace) {
          const { sample, average } = hutchinsonSample(model, lossFn, batch, state.hutchinson, options.hvp);
          fields.hessian_trace = sample;
          fields.hessian_trace_avg = average;
        }
        if (h.topEig) fields.hessian_top_eig = topHessianEigenvalue(model, lossFn, batch, state.power, h.powerIters ?? 3, options.hvp);
        if (h.trHSigma) {
          const samples = h.trHSigmaSamples ?? 1;
          if (samples === 'exact') {
            if (!traced) throw new Error('readProbes: exact tr_h_sigma without traced deltas (a bug)');
            const perSample = perSampleGradients(model, lossFn, batch, traced, fallback);
            // perSampleGradients returns the fallback tensors in place: free only the new ones.
            owned.push(...perSample.filter((t) => !fallback.includes(t)));
            fields.tr_h_sigma = traceHSigma(model, lossFn, batch, perSample, options.hvp ? { hvp: options.hvp } : {});
            fields.extra.tr_h_sigma_samples = B;
          } else {
            // From the traced deltas where they were read anyway; else one weighted backward pass.
            const t = traced;
            const combine = t
              ? (c: Float32Array) => weightedGradientSum(model, t, fallback, c)
              : (options.weightedGradient ?? ((c: Float32Array) => weightedLossGradient(model, lossFn, batch, c)));
            fields.tr_h_sigma = sampledTraceHSigma(model, lossFn, batch, combine, state.trHSigma, samples, options.hvp);
            fields.extra.tr_h_sigma_samples = samples;
          }
        }
      } catch (err) {
        if (!(err instanceof SecondOrderHazardError) || options.onSecondOrderHazard !== 'skip') throw err;
        fields.hessian_trace = fields.hessian_trace_avg = fields.hessian_top_eig = fields.tr_h_sigma = null;
        delete fields.extra.tr_h_sigma_samples;
        fields.extra.hessian_skipped = 1;
      }
    }

    if (options.fourier) {
      const f = options.fourier;
      const layer = f.layer ? model.denseLayers.find((l) => l.name === f.layer) : model.denseLayers[0];
      if (!layer) throw new Error(`fourier probe: no dense layer ${f.layer ?? '(none)'}`);
      const rows = layer.weight.shape[0]!;
      const offset = f.rowOffset ?? 0;
      if (offset + f.p > rows) throw new Error(`fourier probe: layer ${layer.name} has ${rows} rows, needs ${offset} + ${f.p}`);
      const energies = read?.fourierEnergies ?? fourierEnergiesOf(layer.weight as tf.Variable<tf.Rank.R2>, f.p, offset);
      const s = sparsityOfEnergies(energies, { topK: f.topK ?? DEFAULT_FOURIER_TOP_K, energyFraction: f.energyFraction ?? DEFAULT_ENERGY_FRACTION });
      fields.extra.fourier_sparsity = s.topKFraction;
      fields.extra.fourier_key_freqs = s.keyFrequencyCount;
    }
    return { fields, ...(work ? { work } : {}) };
  } finally {
    traced?.dispose();
    tf.dispose(owned);
  }
}

export { createHutchinsonState, createPowerIterationState, hessianVectorProduct, hutchinsonSample, topHessianEigenvalue, traceHSigma } from './hessian.ts';
export type { HutchinsonState, ParamVector, PowerIterationState } from './hessian.ts';
export { gopGrams, gopGramsFromTrace, type GopGrams, type ScopeGram } from './gram.ts';
export { summarizeGrams, type GramResults, type GramWork } from './summaries.ts';
export { traceDeltas, type TracedDeltas } from './deltas.ts';
export { perSampleGradients, perSampleGradientsByLoop, uncoveredGradients } from './per-sample-gradients.ts';
export { gradientNoise, type GradientNoise } from './noise.ts';
export { summarizeGram, summarizeSpectrum, DEFAULT_RANK_TOL, DEFAULT_TOP_K, type SpectrumSummary } from './spectrum.ts';
export { fourierEnergies, fourierEnergiesOf, fourierSparsity, sparsityOfEnergies, type FourierSparsity } from './fourier.ts';
export { symmetricEigen, symmetricEigenvalues } from './eigen.ts';
export * as secondOrderOps from '../second-order-ops.ts';
export { SecondOrderHazardError } from '../second-order-ops.ts';
