// The arithmetic half of the GOP and gradient-noise probes: from the rows read back from the
// backend (gram-math.ts) to the Grams, their spectra and Tr(Σ). No TensorFlow here, so it runs
// wherever it is cheapest: in the probe summarizer's worker thread while the next step trains
// (summarizer.ts), or inline. Either way the same float64 numbers come out.
import type { ProbeSummary } from '@grokstream/schemas';
import { gramsOfRows, type GopGrams, type LayerRows, type PerSampleRows } from './gram-math.ts';
import { gradientNoise } from './noise.ts';
import { summarizeGram } from './spectrum.ts';

/** What is left of the GOP and noise probes once their rows are read back. */
export interface GramWork {
  batchSize: number;
  layers: LayerRows[];
  others: PerSampleRows[];
  /** The Grams themselves, when they were computed where the rows were (graph/mlp-probes.ts): layers and others are then empty. */
  grams?: GopGrams;
  /**
   * The Grams' eigenvalues, when they were computed with them (or are being: graph/mlp-probes.ts's
   * GramSpectra): the spectra are then not solved again. Work with eigenvalues in flight is
   * summarized where they were started (probe-step.ts), not posted to the worker.
   */
  eigenvalues?: GramEigenvalues | EigenvaluesInFlight;
  /** GOP spectra to report; undefined: GOP off. */
  gop?: { topK: number; rankTol: number; perLayer: boolean };
  noise: boolean;
}

/** The eigenvalues of the model's K and of each scope's (any order). */
export interface GramEigenvalues {
  total: Float64Array;
  scopes: Float64Array[];
}

/** Eigenvalues being solved elsewhere (on a thread of their own); take() waits for them. */
export interface EigenvaluesInFlight {
  readonly inFlight: true;
  take(): GramEigenvalues;
}

export const eigenvaluesOf = (e: GramEigenvalues | EigenvaluesInFlight | undefined): GramEigenvalues | undefined => (e && 'inFlight' in e ? e.take() : e);

export interface GramResults {
  gop: ProbeSummary['gop'];
  grad_noise_trace: number | null;
  grad_snr: number | null;
}

export function summarizeGrams(w: GramWork): GramResults {
  const grams = w.grams ?? gramsOfRows(w.batchSize, w.layers, w.others);
  const gop: ProbeSummary['gop'] = [];
  // Taken even if unused: eigenvalues in flight hold a thread until they are.
  const eig = eigenvaluesOf(w.eigenvalues);
  if (w.gop) {
    const spec = { topK: w.gop.topK, rankTol: w.gop.rankTol };
    gop.push({ scope: 'model', ...summarizeGram(grams.total, w.batchSize, spec, eig?.total) });
    if (w.gop.perLayer) grams.scopes.forEach((s, i) => gop.push({ scope: s.scope, ...summarizeGram(s.gram, w.batchSize, spec, eig?.scopes[i]) }));
  }
  const noise = w.noise ? gradientNoise(grams.total, w.batchSize) : undefined;
  return { gop, grad_noise_trace: noise ? noise.trace : null, grad_snr: noise ? noise.snr : null };
}
