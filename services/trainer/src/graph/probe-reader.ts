// The probes' backend work for an MLP run as graphs, behind the interfaces probes/index.ts takes:
// the first-order reads (mlp-probes.ts: the dense layers' Grams and the Fourier energies) and the
// Hessian-vector product (mlp-hessian.ts), at the model's current weights on the run's fixed
// probe batch.
import { tf } from '../tf.ts';
import type { Model } from '../models/model.ts';
import type { FirstOrderReader, FirstOrderReading } from '../probes/index.ts';
import type { Hvp, ParamVector } from '../probes/hessian.ts';
import { energiesOfParts } from '../probes/fourier.ts';
import { GramSpectra, MlpProbeGraph, type ProbeGraphReading } from './mlp-probes.ts';
import { MlpHessianGraph } from './mlp-hessian.ts';
import type { MlpShape } from './mlp-step.ts';

export interface GraphProbeReader extends FirstOrderReader {
  dispose(): void;
}

/** The model's weights as arrays, in model.params order: read back from TensorFlow unless a graph step lends them. */
export type Weights = () => Float32Array[];

const readBack = (model: Model): Weights => () => model.params.map((p) => p.dataSync() as Float32Array);

/**
 * `fromStep`: the reading the graph step took with the step that made the current weights
 * (graph-engine.ts), when it took one; the probe graph runs only when it did not (the first
 * probe step, after a cancelled step).
 */
export function graphProbeReader(
  model: Model,
  shape: MlpShape,
  batch: { x: tf.Tensor2D; y: tf.Tensor },
  fourier?: { p: number; rowOffset: number },
  weights: Weights = readBack(model),
  fromStep?: () => ProbeGraphReading | undefined,
): GraphProbeReader {
  const graph = new MlpProbeGraph(shape, batch.x.shape[0], fourier);
  const scopes = model.denseLayers.map((l) => l.name);
  const spectra = new GramSpectra(scopes.length, batch.x.shape[0]);
  const xs = batch.x.dataSync() as Float32Array;
  const ys = batch.y.dataSync() as Float32Array;
  return {
    read(asks = {}): FirstOrderReading {
      const r = fromStep?.() ?? graph.read(weights(), xs, ys);
      if (r.grams.length !== scopes.length) throw new Error(`the probe graph has ${r.grams.length} dense applications, the model ${scopes.length} dense layers`);
      // The graph's own arrays, valid until the next read: the probe pipeline summarizes (or hands
      // a copy to its worker) before it reads again (probe-step.ts).
      return {
        scopes: scopes.map((scope, i) => ({ scope, gram: r.grams[i]! })),
        total: r.total,
        // Solved on a thread of their own while the next step trains; taken with the summary.
        ...(asks.spectra === false ? {} : { eigenvalues: spectra.start(r.grams, r.total) }),
        ...(r.fourierParts && fourier ? { fourierEnergies: energiesOfParts(r.fourierParts, fourier.p) } : {}),
      };
    },
    dispose: () => {
      graph.dispose();
      spectra.dispose();
    },
  };
}

export interface GraphHvp {
  hvp: Hvp;
  /** sum_i c_i ∇L_i (the sampled Tr(HΣ)'s combination), one run of the same graph. */
  weightedGradient: (c: Float32Array) => ParamVector;
  dispose(): void;
}

/**
 * The Hessian-vector product of an MLP run as one graph (mlp-hessian.ts), at the model's current
 * weights on the probe batch; undefined, with the reason, where TensorFlow's registry cannot
 * differentiate the model twice (the probes then take the op-by-op product).
 */
export function graphHvp(model: Model, shape: MlpShape, batch: { x: tf.Tensor2D; y: tf.Tensor }, weights: Weights = readBack(model)): GraphHvp | { why: string } {
  let graph: MlpHessianGraph;
  try {
    graph = new MlpHessianGraph(shape, batch.x.shape[0]);
  } catch (err) {
    return { why: (err as Error).message.split('\n')[0]! };
  }
  const xs = batch.x.dataSync() as Float32Array;
  const ys = batch.y.dataSync() as Float32Array;
  return {
    hvp: (v) => {
      const out = graph.product(
        weights(),
        xs,
        ys,
        v.map((t) => t.dataSync() as Float32Array),
      );
      return out.map((values, i) => tf.tensor(values.slice(), model.params[i]!.shape));
    },
    weightedGradient: (c) => graph.weightedGradient(weights(), xs, ys, c).map((values, i) => tf.tensor(values.slice(), model.params[i]!.shape)),
    dispose: () => graph.dispose(),
  };
}
