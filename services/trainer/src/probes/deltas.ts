// Per-sample deltas δ_i = ∂L_i/∂z_i of every dense layer, for the whole probe batch, from ONE
// forward and ONE backward pass (Model.trace with additive zero perturbations dz, see model.ts):
// since L = sum_i L_i and sample i's loss depends only on sample i's rows of z, the gradient of
// the summed loss with respect to z is, row by row, each sample's own delta.
import { tf } from '../tf.ts';
import type { DenseLayer, ForwardTrace, Model } from '../models/model.ts';

/** (output [B, C], targets [B, ...]) => per-sample losses [B]; see index.ts for the contract. */
export type PerSampleLoss<Y extends tf.Tensor = tf.Tensor> = (output: tf.Tensor2D, y: Y) => tf.Tensor1D;

export interface ProbeBatch<Y extends tf.Tensor = tf.Tensor> {
  x: tf.Tensor2D;
  y: Y;
}

/** One application of a dense layer: rows sample-major, `positions` rows per sample. */
export interface LayerUse {
  positions: number;
  /** The layer input a, [B*positions, in]. */
  input: tf.Tensor2D;
  /** ∂(sum_i L_i)/∂z, [B*positions, out]: row (i, t) is sample i's delta at position t. */
  delta: tf.Tensor2D;
}

/** All uses of one dense layer (more than one for a layer applied in several places). */
export interface LayerDeltas {
  layer: DenseLayer;
  uses: LayerUse[];
}

export interface TracedDeltas {
  batchSize: number;
  /** Dense layers in order of first use in the trace. */
  layers: LayerDeltas[];
  /** Parameters that no traced dense layer owns: their per-sample gradients come from uncoveredGradients. */
  uncovered: tf.Variable[];
  /**
   * Those of them the trace gives per-sample gradients of (ForwardTrace.addedTo): the delta rows
   * of the dense layer they are added to, [B * positions, out] (owned by the trace).
   */
  fromDeltas: Map<tf.Variable, tf.Tensor2D>;
  /** Frees the kept inputs and deltas. */
  dispose(): void;
}

// The z shapes of a model's trace for a given input shape (the dz perturbations must exist before
// the taped function runs). Learned with one untaped forward pass per model and input shape.
const zShapeCache = new WeakMap<Model, Map<string, Array<[number, number]>>>();

function zShapes(model: Model, x: tf.Tensor2D): Array<[number, number]> {
  let perModel = zShapeCache.get(model);
  if (!perModel) zShapeCache.set(model, (perModel = new Map()));
  const key = x.shape.join('x');
  let shapes = perModel.get(key);
  if (!shapes) {
    shapes = tf.tidy(() => model.trace(x).dense.map((d): [number, number] => [d.z.shape[0], d.z.shape[1]]));
    perModel.set(key, shapes);
  }
  return shapes;
}

/** Inputs and deltas of every dense layer of `model` on the batch; the caller must dispose(). */
export function traceDeltas<Y extends tf.Tensor>(model: Model, lossFn: PerSampleLoss<Y>, batch: ProbeBatch<Y>): TracedDeltas {
  const B = batch.x.shape[0];
  const shapes = zShapes(model, batch.x);
  const records: Array<{ layer: DenseLayer; positions: number; input: tf.Tensor2D }> = [];
  let addedTo: NonNullable<ForwardTrace['addedTo']> = [];
  // Problems found inside the taped function are thrown after it completes: throwing inside would
  // strand the tape's saved tensors.
  let problem: string | undefined;
  const deltas = tf.tidy(() => {
    const dz = shapes.map((s) => tf.zeros<tf.Rank.R2>(s));
    const { grads } = tf.engine().gradients(
      () => {
        const trace = model.trace(batch.x, dz);
        if (trace.dense.length !== dz.length) {
          problem = `trace(x, dz) recorded ${trace.dense.length} dense applications, trace(x) ${dz.length}`;
        }
        for (const d of trace.dense) {
          // A clone owned by us (the input may be the caller's x): kept past this taped scope.
          records.push({ layer: d.layer, positions: d.positions, input: tf.keep(tf.clone(d.input)) });
        }
        addedTo = trace.addedTo ?? [];
        const losses = lossFn(trace.output, batch.y);
        if (losses.rank !== 1 || losses.shape[0] !== B) {
          problem = `the loss function must return per-sample losses of shape [${B}], got [${losses.shape}]`;
        }
        return tf.sum(losses) as tf.Scalar;
      },
      dz,
      undefined,
      true,
    );
    // A z that does not reach the loss has zero deltas.
    return grads.map((g, k) => (g ?? tf.zerosLike(dz[k]!)) as tf.Tensor2D);
  });
  const fail = (message: string): never => {
    tf.dispose([...records.map((q) => q.input), ...deltas]);
    throw new Error(message);
  };
  if (problem) fail(problem);

  const byLayer = new Map<DenseLayer, LayerDeltas>();
  records.forEach((r, k) => {
    const rows = r.input.shape[0];
    if (rows !== B * r.positions) fail(`dense layer ${r.layer.name}: input has ${rows} rows, expected B * positions = ${B} * ${r.positions}`);
    let entry = byLayer.get(r.layer);
    if (!entry) byLayer.set(r.layer, (entry = { layer: r.layer, uses: [] }));
    entry.uses.push({ positions: r.positions, input: r.input, delta: deltas[k]! });
  });
  const layers = [...byLayer.values()];
  const covered = new Set<tf.Variable>(layers.flatMap(({ layer }) => (layer.bias ? [layer.weight, layer.bias] : [layer.weight])));
  const fromDeltas = new Map<tf.Variable, tf.Tensor2D>();
  for (const { param, layer } of addedTo) {
    const uses = byLayer.get(layer)?.uses ?? [];
    const use = uses[0];
    if (uses.length !== 1 || !use || use.positions * use.delta.shape[1] !== param.size) {
      fail(`${param.name} is said to be added to dense layer ${layer.name}'s output, but that layer has ${uses.length} uses of ${use ? `${use.positions} × ${use.delta.shape[1]}` : 'no'} values a sample, the parameter ${param.size}`);
    }
    fromDeltas.set(param, use!.delta);
  }
  return {
    batchSize: B,
    layers,
    uncovered: model.params.filter((p) => !covered.has(p)),
    fromDeltas,
    dispose: () => tf.dispose([...records.map((r) => r.input), ...deltas]),
  };
}

/** Row i of y (first axis), keeping the batch axis: [1, ...]. */
export function sampleOf<Y extends tf.Tensor>(y: Y, i: number): Y {
  const begin = y.shape.map((_, a) => (a === 0 ? i : 0));
  const size = y.shape.map((_, a) => (a === 0 ? 1 : -1));
  return tf.slice(y, begin, size) as Y;
}
