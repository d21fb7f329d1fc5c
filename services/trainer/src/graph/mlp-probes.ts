// The first-order probes' backend half (probes/index.ts, readProbes) for an MLP as one TensorFlow
// graph (tf-graph.ts): on the fixed probe batch, every dense layer's Gram K_l (probes/gram-math.ts:
// K_ij = (1/B) Σ over sample i's rows p and sample j's rows q of (a_p·a_q + [bias]) (δ_p·δ_q),
// with a the layer's inputs and δ = ∂(Σ_i L_i)/∂z its deltas) in float64 and their sum, and the
// Fourier energies of the embedding rows (probes/fourier.ts), in one TF_SessionRun (~0.3 ms on the
// reference MLP). Their eigenvalues (GramSpectra) are solved by LAPACK's symmetric solver in a
// graph of their own, on a thread of their own, while the next step trains: in the step's run they
// were ~0.5 ms of it (three 64 × 64 problems), in the probes' JavaScript worker ~1.4 ms, longer than
// a step. Op by op the same reads take ~20 eager ops, and the Grams and their spectra ~2 ms of
// JavaScript arithmetic a probe step.
import { dftMatrix } from '../probes/fourier.ts';
import { mlpForwardIn, mlpParamShapes, type DenseUse, type MlpShape } from './mlp-forward.ts';
import type { EigenvaluesInFlight, GramEigenvalues } from '../probes/summaries.ts';
import { DT, TfGraph, graphAddon, type Runner } from './tf-graph.ts';

export interface ProbeGraphReading {
  /** K of every dense layer, in models/mlp.ts's order (embedding, hidden layers, output), B × B row-major. */
  grams: Float64Array[];
  /** Their sum: the model's K. */
  total: Float64Array;
  /** fourierEnergiesOf's paired sums (cos rows, then sin rows), when the graph has the Fourier probe. */
  fourierParts?: Float32Array;
}

/** The probe ops built into a graph (probeOpsIn), and the arrays their fetches are read into. */
export class ProbeOps {
  private readonly grams: Float64Array[];
  private readonly total: Float64Array;
  private readonly fourierParts?: Float32Array;

  constructor(
    /** The fetches, in the order of outputs(). */
    readonly fetches: string[],
    private readonly layers: number,
    private readonly batchSize: number,
    private readonly fourierP?: number,
  ) {
    this.grams = Array.from({ length: layers }, () => new Float64Array(batchSize * batchSize));
    this.total = new Float64Array(batchSize * batchSize);
    if (fourierP !== undefined) this.fourierParts = new Float32Array(2 * (Math.floor(fourierP / 2) + 1));
  }

  /** The same fetches into arrays of its own: a reading that stays valid through the next run. */
  twin(): ProbeOps {
    return new ProbeOps(this.fetches, this.layers, this.batchSize, this.fourierP);
  }

  /** The arrays a run fetches into, in the order of `fetches`. */
  outputs(): Array<Float32Array | Float64Array> {
    return [...this.grams, this.total, ...(this.fourierParts ? [this.fourierParts] : [])];
  }

  /** The last run's reading (the arrays are reused by the next run). */
  reading(): ProbeGraphReading {
    return { grams: this.grams, total: this.total, ...(this.fourierParts ? { fourierParts: this.fourierParts } : {}) };
  }
}

/**
 * The first-order probe ops on a probe batch (x [B × inputDim], one-hot y) at these parameters
 * (mlpParamShapes order): in a graph of their own (MlpProbeGraph), or in the step's graph on its
 * new weights (mlp-step.ts), so that a probe step costs no run of its own.
 */
export function probeOpsIn(g: TfGraph, s: MlpShape, x: string, y: string, params: string[], B: number, fourier?: { p: number; rowOffset: number }): ProbeOps {
  // Forward (models/mlp.ts), keeping each dense application's input and pre-activation.
  const uses: DenseUse[] = [];
  const logits = mlpForwardIn(g, s, x, params, { onDense: (u) => uses.push(u) });
  // Σ_i L_i (second-order-ops.ts's softmax cross-entropy), and its deltas at every z.
  const ce = g.op('SoftmaxCrossEntropyWithLogits', [logits, y]);
  const lossSum = g.op('Sum', [`${ce}:0`, g.ints([0])]);
  const deltas = g.gradients([lossSum], uses.map((u) => u.z), 'delta');
  const f64 = (t: string) => g.op('Cast', [t], [['SrcT', 'type', DT.float], ['DstT', 'type', DT.double]]);

  const fetches = uses.map((u, k) => {
    const d = deltas[k];
    if (!d) throw new Error(`no delta for dense application ${k}: TensorFlow's registry has no gradient on its path`);
    const [a, dl] = [f64(u.input), f64(d)];
    let ga = g.op('MatMul', [a, a], [['transpose_b', 'bool', true]]);
    if (u.bias) ga = g.op('AddV2', [ga, f64(g.scalar(1))]);
    const gd = g.op('MatMul', [dl, dl], [['transpose_b', 'bool', true]]);
    let k2 = g.op('Mul', [ga, gd]);
    // R rows a sample: the (B·R)² products summed over each sample pair's R × R block.
    if (u.rows > 1) k2 = g.op('Sum', [g.op('Reshape', [k2, g.ints([B, u.rows, B, u.rows])]), g.ints([1, 3])]);
    return g.op('RealDiv', [k2, f64(g.scalar(B))]);
  });
  const layers = fetches.length;
  const total = layers === 1 ? g.op('Identity', [fetches[0]!]) : g.op('AddN', [fetches], [['N', 'int', layers]]);
  fetches.push(total);
  if (fourier) {
    // fourier.ts's fourierEnergiesOf: Σ over columns of (DFT · E)², E the embedding rows.
    const half = Math.floor(fourier.p / 2);
    const rows = g.op('Slice', [params[0]!, g.ints([fourier.rowOffset, 0]), g.ints([fourier.p, -1])]);
    const w = g.constant(dftMatrix(fourier.p), [2 * (half + 1), fourier.p]);
    fetches.push(g.op('Sum', [g.op('Square', [g.op('MatMul', [w, rows])]), g.ints([1])]));
  }
  return new ProbeOps(fetches, layers, B, fourier?.p);
}

/**
 * The spectra (probes/spectrum.ts) of `layers` B × B Grams and of their sum, by LAPACK's symmetric
 * solver (SelfAdjointEigV2), in a graph run on a thread of its own (tf-graph.ts, Runner.start):
 * start() copies the Grams in and returns at once; take() waits for the eigenvalues (ascending).
 */
export class GramSpectra {
  private readonly graph: TfGraph;
  private readonly runner: Runner;

  constructor(
    private readonly layers: number,
    private readonly batchSize: number,
  ) {
    const addon = graphAddon();
    if (!addon.addon) throw new Error(`no Gram spectra graph: ${addon.why}`);
    const g = (this.graph = new TfGraph(addon.addon));
    const feeds = Array.from({ length: layers + 1 }, (_, i) => g.placeholder(`k${i}`, DT.double, [batchSize, batchSize]));
    const spectra = feeds.map((k) => g.op('SelfAdjointEigV2', [k], [['compute_v', 'bool', false]]));
    // One thread, the run's own: its ops run on the thread start() made (inter -1: in the
    // caller's thread), beside the training step, which has TensorFlow's pool.
    this.runner = g.runner(
      feeds.map((name) => ({ name, shape: [batchSize, batchSize], dtype: DT.double })),
      spectra,
      { intra: 1, inter: -1 },
    );
  }

  start(grams: Float64Array[], total: Float64Array): EigenvaluesInFlight {
    if (grams.length !== this.layers) throw new Error(`GramSpectra: ${this.layers} Grams expected, got ${grams.length}`);
    const run = this.runner.start([...grams, total]);
    let taken: GramEigenvalues | undefined;
    return {
      inFlight: true,
      take: () => {
        if (!taken) {
          const out = Array.from({ length: this.layers + 1 }, () => new Float64Array(this.batchSize));
          run.finish(out);
          taken = { scopes: out.slice(0, this.layers), total: out[this.layers]! };
        }
        return taken;
      },
    };
  }

  dispose(): void {
    this.graph.dispose();
  }
}

export class MlpProbeGraph {
  private readonly graph: TfGraph;
  private readonly runner: Runner;
  private readonly ops: ProbeOps;

  /**
   * For probe batches of `batchSize` rows; `fourier`: the embedding rows [rowOffset, rowOffset + p)
   * of the first dense layer's weight.
   */
  constructor(
    private readonly shape: MlpShape,
    readonly batchSize: number,
    readonly fourier?: { p: number; rowOffset: number },
  ) {
    const addon = graphAddon();
    if (!addon.addon) throw new Error(`no probe graph: ${addon.why}`);
    this.graph = new TfGraph(addon.addon);
    const g = this.graph;
    const B = batchSize;
    const s = shape;
    const shapes = mlpParamShapes(s);
    const x = g.placeholder('x', DT.float, [B, s.inputDim]);
    const y = g.placeholder('y', DT.float, [B, s.outputDim]);
    const params = shapes.map((sh, i) => g.placeholder(`param${i}`, DT.float, sh));
    this.ops = probeOpsIn(g, s, x, y, params, B, fourier);
    this.runner = g.runner(
      [
        { name: x, shape: [B, s.inputDim], dtype: DT.float },
        { name: y, shape: [B, s.outputDim], dtype: DT.float },
        ...params.map((name, i) => ({ name, shape: shapes[i]!, dtype: DT.float })),
      ],
      this.ops.fetches,
      // The probe batch is small: one thread for each op spares the hand-offs (in a run on 2 cores
      // a probe step took 1.0 ms so against 1.3 ms on TensorFlow's default pool).
      { intra: 1 },
    );
  }

  /** The reading for these weights (mlpParamShapes order) on the probe batch (x, one-hot y). The arrays are reused by the next read. */
  read(params: Float32Array[], x: Float32Array, y: Float32Array): ProbeGraphReading {
    if (x.length !== this.batchSize * this.shape.inputDim || y.length !== this.batchSize * this.shape.outputDim) {
      throw new Error(`the probe graph takes ${this.batchSize} samples of ${this.shape.inputDim} → ${this.shape.outputDim}; got ${x.length} inputs and ${y.length} targets`);
    }
    this.runner.run([x, y, ...params], this.ops.outputs());
    return this.ops.reading();
  }

  dispose(): void {
    this.graph.dispose();
  }
}
