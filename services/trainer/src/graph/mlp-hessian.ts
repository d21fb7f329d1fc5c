// The Hessian-vector product the curvature probes are built on (probes/hessian.ts), for an MLP on
// the probe batch, as one TensorFlow graph: H v = ∇_θ (∇_θ L · v), L the mean softmax
// cross-entropy, both gradients from TensorFlow's C++ gradient registry (TF_AddGradients twice).
// Op by op, tfjs builds and runs the double backward pass as ~100 eager ops (~9 ms on the
// reference MLP); as a graph it is one TF_SessionRun (~0.5 ms).
//
// The registry differentiates MatMul, AddV2, Square and the fused softmax cross-entropy twice, but
// has no gradient for ReluGrad, BiasAddGrad or TanhGrad (a tanh MLP's probes take the op-by-op
// product; the constructor throws, naming the op): here ReLU is z · stop_gradient(z > 0),
// the same values and the same derivatives (0 at z = 0, as tfjs's relu), with a mask the second
// pass leaves alone, and a bias is a broadcast AddV2.
import type { Activation } from '../models/activations.ts';
import { activateIn, mlpForwardIn, mlpParamShapes, type MlpShape } from './mlp-forward.ts';
import { DT, TfGraph, graphAddon, type Runner } from './tf-graph.ts';

export class MlpHessianGraph {
  private readonly graph: TfGraph;
  private readonly runner: Runner;
  private readonly shapes: number[][];
  /** H v, in mlpParamShapes order; reused by the next product. */
  private readonly out: Float32Array[];
  private readonly weightedRunner: Runner;
  /** sum_i c_i ∇L_i, in mlpParamShapes order; reused by the next call. */
  private readonly weighted: Float32Array[];

  constructor(
    private readonly shape: MlpShape,
    readonly batchSize: number,
  ) {
    const addon = graphAddon();
    if (!addon.addon) throw new Error(`no Hessian graph: ${addon.why}`);
    this.graph = new TfGraph(addon.addon);
    const g = this.graph;
    const s = shape;
    const B = batchSize;
    this.shapes = mlpParamShapes(s);
    const x = g.placeholder('x', DT.float, [B, s.inputDim]);
    const y = g.placeholder('y', DT.float, [B, s.outputDim]);
    const params = this.shapes.map((sh, i) => g.placeholder(`param${i}`, DT.float, sh));
    const vs = this.shapes.map((sh, i) => g.placeholder(`v${i}`, DT.float, sh));
    try {
      // AddV2, not BiasAdd: the registry has no gradient for BiasAddGrad.
      const logits = mlpForwardIn(g, s, x, params, { bias: 'AddV2', activate: (z) => twiceDifferentiable(g, s.activation, z) });
      const ce = g.op('SoftmaxCrossEntropyWithLogits', [logits, y]);
      const loss = g.op('Mean', [`${ce}:0`, g.ints([0])]);
      // Explicit unit seeds: the registry's default seed (OnesLike) has no gradient of its own.
      const grads = g.gradients([loss], params, 'grad', [g.scalar(1)]);
      let dot = g.scalar(0);
      grads.forEach((d, i) => {
        if (!d) throw new Error(`no gradient for parameter ${i}`);
        dot = g.op('AddV2', [dot, g.op('Sum', [g.op('Reshape', [g.op('Mul', [d, vs[i]!]), g.ints([-1])]), g.ints([0])])]);
      });
      const hv = g.gradients([dot], params, 'hvp', [g.scalar(1)]).map((d, i) => d ?? g.op('ZerosLike', [params[i]!]));
      const batchFeeds = [
        { name: x, shape: [B, s.inputDim], dtype: DT.float },
        { name: y, shape: [B, s.outputDim], dtype: DT.float },
        ...params.map((name, i) => ({ name, shape: this.shapes[i]!, dtype: DT.float })),
      ];
      this.runner = g.runner(
        [...batchFeeds, ...vs.map((name, i) => ({ name, shape: this.shapes[i]!, dtype: DT.float }))],
        hv,
        { intra: 1 }, // a small batch: as mlp-probes.ts
      );
      // sum_i c_i ∇L_i as ∇(sum_i c_i L_i) (per-sample-gradients.ts, weightedLossGradient): the
      // combination of the sampled Tr(HΣ), without the per-sample gradients.
      const c = g.placeholder('c', DT.float, [B]);
      const weightedLoss = g.op('Sum', [g.op('Mul', [`${ce}:0`, c]), g.ints([0])]);
      const weighted = g.gradients([weightedLoss], params, 'weighted', [g.scalar(1)]).map((d, i) => d ?? g.op('ZerosLike', [params[i]!]));
      this.weightedRunner = g.runner([...batchFeeds, { name: c, shape: [B], dtype: DT.float }], weighted, { intra: 1 });
    } catch (err) {
      this.graph.dispose();
      throw err;
    }
    this.out = this.shapes.map((sh) => new Float32Array(sh.reduce((a, b) => a * b, 1)));
    this.weighted = this.shapes.map((sh) => new Float32Array(sh.reduce((a, b) => a * b, 1)));
  }

  private checkBatch(x: Float32Array, y: Float32Array): void {
    if (x.length !== this.batchSize * this.shape.inputDim || y.length !== this.batchSize * this.shape.outputDim) {
      throw new Error(`the Hessian graph takes ${this.batchSize} samples of ${this.shape.inputDim} → ${this.shape.outputDim}; got ${x.length} inputs and ${y.length} targets`);
    }
  }

  /** sum_i c_i ∇L_i at these weights on the probe batch; the result arrays are reused by the next call. */
  weightedGradient(params: Float32Array[], x: Float32Array, y: Float32Array, c: Float32Array): Float32Array[] {
    this.checkBatch(x, y);
    if (c.length !== this.batchSize) throw new Error(`the weighted gradient takes ${this.batchSize} weights, got ${c.length}`);
    this.weightedRunner.run([x, y, ...params, c], this.weighted);
    return this.weighted;
  }

  /** H v at these weights on the probe batch (x, one-hot y); the result arrays are reused by the next call. */
  product(params: Float32Array[], x: Float32Array, y: Float32Array, v: Float32Array[]): Float32Array[] {
    this.checkBatch(x, y);
    this.runner.run([x, y, ...params, ...v], this.out);
    return this.out;
  }

  dispose(): void {
    this.graph.dispose();
  }
}

/** The activation in a form TensorFlow's C++ registry can differentiate twice. */
function twiceDifferentiable(g: TfGraph, activation: Activation, z: string): string {
  if (activation !== 'relu') return activateIn(g, activation, z);
  const mask = g.op('StopGradient', [g.op('Cast', [g.op('Greater', [z, g.scalar(0)])], [['SrcT', 'type', DT.bool], ['DstT', 'type', DT.float]])]);
  return g.op('Mul', [z, mask]);
}
