// The MLP's optimisation step (update.ts: forward, mean softmax cross-entropy, gradients, the
// optimizer's update, Σ‖g‖² and ‖Δθ‖²) as one TensorFlow graph (tf-graph.ts). The same
// arithmetic as the eager step, op for op: the model of models/mlp.ts, the loss of
// second-order-ops.ts (as TensorFlow's fused softmax cross-entropy), the optimizer of
// optim/optimizer.ts with its flat slots, and the step's scalars (the learning rate, Adam's bias
// corrections) computed in float64 here and fed in, as the eager step does. The state (weights,
// slots) lives in Float32Arrays on this side and goes in and out with each run.
import type { Activation } from '../models/activations.ts';
import type { MlpOptions } from '../models/mlp.ts';
import type { OptimizerOptions } from '../optim/optimizer.ts';
import { DT, TfGraph, graphAddon, type Feed, type Runner } from './tf-graph.ts';

export type MlpShape = Pick<MlpOptions, 'inputDim' | 'outputDim' | 'hidden' | 'activation' | 'bias' | 'embedDim'>;

export interface StepResult {
  loss: number;
  gradNormSq: number;
  updateNormSq: number;
  /** The batch's logits before the update, [B × outputDim] row-major. */
  logits: Float32Array;
}

const SUPPORTED: ReadonlySet<Activation> = new Set(['relu', 'quadratic', 'linear', 'tanh']);

/** Why this model and optimizer cannot run as a graph step, or undefined when they can. */
export function graphStepProblem(shape: MlpShape): string | undefined {
  if (!SUPPORTED.has(shape.activation)) return `activation ${shape.activation} has no graph form`;
  return graphAddon().why;
}

/** The activation of models/activations.ts on `z`, as graph operations. */
export function activateIn(g: TfGraph, activation: Activation, z: string): string {
  switch (activation) {
    case 'relu':
      return g.op('Relu', [z]);
    case 'quadratic':
      return g.op('Square', [z]);
    case 'linear':
      return z;
    case 'tanh':
      return g.op('Tanh', [z]);
    default:
      throw new Error(`activation ${activation} has no graph form`);
  }
}

/** One application of a dense layer in a graph forward pass: its input, pre-activation and rows per sample. */
export interface DenseUse {
  input: string;
  z: string;
  rows: number;
  bias: boolean;
}

/**
 * The MLP's forward pass (models/mlp.ts) as graph operations on x, with its parameters in
 * mlpParamShapes order; returns the logits. `bias` adds the bias by BiasAdd (default) or by a
 * broadcast AddV2 (differentiable twice); `activate` replaces activateIn; `onDense` sees every
 * dense application, the embedding's included (two rows a sample).
 */
export function mlpForwardIn(
  g: TfGraph,
  s: MlpShape,
  x: string,
  params: string[],
  o: { bias?: 'BiasAdd' | 'AddV2'; activate?: (z: string) => string; onDense?: (use: DenseUse) => void } = {},
): string {
  const activate = o.activate ?? ((z: string) => activateIn(g, s.activation, z));
  let p = 0;
  const dense = (h: string) => {
    let z = g.op('MatMul', [h, params[p++]!]);
    if (s.bias) z = g.op(o.bias ?? 'BiasAdd', [z, params[p++]!]);
    o.onDense?.({ input: h, z, rows: 1, bias: s.bias });
    return z;
  };
  let h = x;
  if (s.embedDim !== undefined) {
    // Rows [a_0, b_0, a_1, b_1, ...]: one embedding applied at two positions, two rows a sample.
    const pairs = g.op('Reshape', [x, g.ints([-1, s.inputDim / 2])]);
    const e = g.op('MatMul', [pairs, params[p++]!]);
    o.onDense?.({ input: pairs, z: e, rows: 2, bias: false });
    h = g.op('Reshape', [e, g.ints([-1, 2 * s.embedDim])]);
  }
  for (let i = 0; i < s.hidden.length; i++) h = activate(dense(h));
  return dense(h);
}

/** The parameters' shapes, in models/mlp.ts's order (embed, hidden layers, out; W then b). */
export function mlpParamShapes(s: MlpShape): number[][] {
  const shapes: number[][] = [];
  let width = s.inputDim;
  if (s.embedDim !== undefined) {
    shapes.push([s.inputDim / 2, s.embedDim]);
    width = 2 * s.embedDim;
  }
  for (const h of [...s.hidden, s.outputDim]) {
    shapes.push([width, h]);
    if (s.bias) shapes.push([h]);
    width = h;
  }
  return shapes;
}

export class MlpGraphStep {
  private readonly graph: TfGraph;
  private readonly shapes: number[][];
  private readonly total: number;
  private readonly slotCount: number;
  private readonly runners = new Map<number, { runner: Runner; logits: Float32Array }>();
  private readonly names: { x: string; y: string; params: string[]; slots: string[]; scale: string; vdiv: string; decay: string; fetches: string[] };
  private readonly scalars = { loss: new Float32Array(1), gsq: new Float32Array(1), usq: new Float32Array(1) };
  private readonly stepScalars = { scale: new Float32Array(1), vdiv: new Float32Array(1), decay: new Float32Array(1) };
  /** The weights, in mlpParamShapes order, updated by every step. */
  readonly params: Float32Array[];
  /** The optimizer's flat slots (optim/optimizer.ts: momentum, or Adam's m and v). */
  readonly slots: Float32Array[];
  /** Updates applied so far (Adam's bias correction). */
  updates = 0;
  private readonly outParams: Float32Array[];
  private readonly outSlots: Float32Array[];

  constructor(
    private readonly shape: MlpShape,
    private readonly opt: OptimizerOptions,
    initial: { params: Float32Array[]; slots?: Float32Array[]; updates?: number },
    private readonly threads: { intra?: number; inter?: number } = {},
  ) {
    const problem = graphStepProblem(shape);
    if (problem) throw new Error(`no graph step: ${problem}`);
    this.shapes = mlpParamShapes(shape);
    const sizes = this.shapes.map((s) => s.reduce((a, b) => a * b, 1));
    this.total = sizes.reduce((a, b) => a + b, 0);
    this.slotCount = opt.kind === 'sgd' ? (opt.momentum > 0 ? 1 : 0) : 2;
    if (initial.params.length !== this.shapes.length) throw new Error(`expected ${this.shapes.length} parameters, got ${initial.params.length}`);
    initial.params.forEach((p, i) => {
      if (p.length !== sizes[i]) throw new Error(`parameter ${i}: expected ${sizes[i]} values, got ${p.length}`);
    });
    this.params = initial.params.map((p) => Float32Array.from(p));
    this.slots = initial.slots ? initial.slots.map((s) => Float32Array.from(s)) : Array.from({ length: this.slotCount }, () => new Float32Array(this.total));
    if (this.slots.length !== this.slotCount || this.slots.some((s) => s.length !== this.total)) throw new Error(`expected ${this.slotCount} optimizer slots of ${this.total} values`);
    this.updates = initial.updates ?? 0;
    this.outParams = this.params.map((p) => new Float32Array(p.length));
    this.outSlots = this.slots.map((s) => new Float32Array(s.length));
    this.graph = new TfGraph(graphAddon().addon!);
    this.names = this.build(sizes);
  }

  private build(sizes: number[]) {
    const g = this.graph;
    const s = this.shape;
    const x = g.placeholder('x', DT.float, [-1, s.inputDim]);
    const y = g.placeholder('y', DT.float, [-1, s.outputDim]);
    const params = this.shapes.map((shape, i) => g.placeholder(`param${i}`, DT.float, shape));
    const slots = Array.from({ length: this.slotCount }, (_, i) => g.placeholder(`slot${i}`, DT.float, [this.total]));
    const scale = g.placeholder('scale', DT.float, []);
    const vdiv = g.placeholder('vdiv', DT.float, []);
    const decay = g.placeholder('decay', DT.float, []);

    // Forward: models/mlp.ts.
    const logits = g.op('Identity', [mlpForwardIn(g, s, x, params)], [], 'logits');
    // Mean softmax cross-entropy (one-hot or soft targets), and its gradients.
    const ce = g.op('SoftmaxCrossEntropyWithLogits', [logits, y]);
    const loss = g.op('Mean', [`${ce}:0`, g.ints([0])], [], 'loss');
    const grads = g.gradients([loss], params, 'grad');
    const gradOf = (i: number) => {
      const d = grads[i];
      if (!d) throw new Error(`no gradient for parameter ${i}: TensorFlow's registry has none on its path`);
      return d;
    };

    // The optimizer: optim/optimizer.ts on the flat vector.
    const flat = (ts: string[]) => (ts.length === 1 ? g.op('Reshape', [ts[0]!, g.ints([this.total])]) : g.op('ConcatV2', [ts.map((t) => g.op('Reshape', [t, g.ints([-1])])), g.int(0)], [['N', 'int', ts.length]]));
    const gs = params.map((_, i) => gradOf(i));
    const gsq = g.op('Sum', [g.op('Square', [flat(gs)]), g.ints([0])], [], 'grad_sq_norm');
    let gv = flat(gs);
    const o = this.opt;
    if (o.kind !== 'adamw' && o.weightDecay > 0) gv = g.op('AddV2', [gv, g.op('Mul', [decay, flat(params)])]);
    let delta: string;
    const newSlots: string[] = [];
    if (o.kind === 'sgd') {
      if (o.momentum > 0) {
        const mom = g.scalar(o.momentum);
        const m = g.op('AddV2', [g.op('Mul', [mom, slots[0]!]), gv]);
        newSlots.push(m);
        delta = g.op('Mul', [scale, o.nesterov ? g.op('AddV2', [gv, g.op('Mul', [mom, m])]) : m]);
      } else {
        delta = g.op('Mul', [scale, gv]);
      }
    } else {
      const m = g.op('AddV2', [g.op('Mul', [g.scalar(o.beta1), slots[0]!]), g.op('Mul', [g.scalar(1 - o.beta1), gv])]);
      const v = g.op('AddV2', [g.op('Mul', [g.scalar(o.beta2), slots[1]!]), g.op('Mul', [g.scalar(1 - o.beta2), g.op('Square', [gv])])]);
      newSlots.push(m, v);
      const vHat = g.op('RealDiv', [v, vdiv]);
      delta = g.op('RealDiv', [g.op('Mul', [scale, m]), g.op('AddV2', [g.op('Sqrt', [vHat]), g.scalar(o.eps)])]);
    }
    if (o.kind === 'adamw' && o.weightDecay > 0) delta = g.op('Sub', [delta, g.op('Mul', [decay, flat(params)])]);
    const usq = g.op('Sum', [g.op('Square', [delta]), g.ints([0])], [], 'update_sq_norm');
    const parts = sizes.length === 1 ? [delta] : ((): string[] => {
      const split = g.op('SplitV', [delta, g.ints(sizes), g.int(0)], [['num_split', 'int', sizes.length]]);
      return sizes.map((_, i) => `${split}:${i}`);
    })();
    const newParams = params.map((w, i) => g.op('AddV2', [w, g.op('Reshape', [parts[i]!, g.ints(this.shapes[i]!)])], [], `new_param${i}`));
    return { x, y, params, slots, scale, vdiv, decay, fetches: [loss, gsq, usq, logits, ...newParams, ...newSlots] };
  }

  private runnerFor(batch: number) {
    let r = this.runners.get(batch);
    if (!r) {
      const n = this.names;
      const feeds: Feed[] = [
        { name: n.x, shape: [batch, this.shape.inputDim], dtype: DT.float },
        { name: n.y, shape: [batch, this.shape.outputDim], dtype: DT.float },
        ...n.params.map((name, i) => ({ name, shape: this.shapes[i]!, dtype: DT.float })),
        ...n.slots.map((name) => ({ name, shape: [this.total], dtype: DT.float })),
        { name: n.scale, shape: [], dtype: DT.float },
        { name: n.vdiv, shape: [], dtype: DT.float },
        { name: n.decay, shape: [], dtype: DT.float },
      ];
      r = { runner: this.graph.runner(feeds, n.fetches, this.threads), logits: new Float32Array(batch * this.shape.outputDim) };
      this.runners.set(batch, r);
    }
    return r;
  }

  /**
   * One step on a batch (x [B × inputDim], y one-hot [B × outputDim], row-major) at this learning
   * rate. The graph computes the new weights and slots beside the current ones; when `cancelled`
   * says so after it ran, they are dropped (the step never happened) and this returns undefined.
   */
  step(x: Float32Array, y: Float32Array, lr: number, cancelled?: () => boolean): StepResult | undefined {
    const batch = y.length / this.shape.outputDim;
    if (!Number.isInteger(batch) || x.length !== batch * this.shape.inputDim) throw new Error(`a batch of ${x.length} inputs and ${y.length} targets does not fit ${this.shape.inputDim} → ${this.shape.outputDim}`);
    const { runner, logits } = this.runnerFor(batch);
    const o = this.opt;
    const t = this.updates + 1;
    // The scalars as optim/optimizer.ts computes them (float64, then float32).
    this.stepScalars.scale[0] = o.kind === 'sgd' ? -lr : -lr / (1 - o.beta1 ** t);
    this.stepScalars.vdiv[0] = o.kind === 'sgd' ? 1 : 1 - o.beta2 ** t;
    this.stepScalars.decay[0] = o.kind === 'adamw' ? lr * o.weightDecay : o.weightDecay;
    const { loss, gsq, usq } = this.scalars;
    runner.run(
      [x, y, ...this.params, ...this.slots, this.stepScalars.scale, this.stepScalars.vdiv, this.stepScalars.decay],
      [loss, gsq, usq, logits, ...this.outParams, ...this.outSlots],
    );
    if (cancelled?.()) return undefined;
    this.updates = t;
    for (let i = 0; i < this.params.length; i++) this.params[i]!.set(this.outParams[i]!);
    for (let i = 0; i < this.slots.length; i++) this.slots[i]!.set(this.outSlots[i]!);
    return { loss: loss[0]!, gradNormSq: gsq[0]!, updateNormSq: usq[0]!, logits };
  }

  dispose(): void {
    this.graph.dispose();
  }
}
