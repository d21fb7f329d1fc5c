// The MLP's optimisation step (update.ts: forward, mean softmax cross-entropy, gradients, the
// optimizer's update, Σ‖g‖² and ‖Δθ‖²) as one TensorFlow graph (tf-graph.ts). The same
// arithmetic as the eager step, op for op: the model of models/mlp.ts, the loss of
// second-order-ops.ts (as TensorFlow's fused softmax cross-entropy), the optimizer of
// optim/optimizer.ts with its flat slots, and the step's scalars (the learning rate, Adam's bias
// corrections) computed in float64 here and fed in, as the eager step does. The state (weights,
// slots) lives in Float32Arrays on this side and goes in and out with each run.
import type { Activation } from '../models/activations.ts';
import type { OptimizerOptions } from '../optim/optimizer.ts';
import { DT, TfGraph, graphAddon, type Feed, type Runner } from './tf-graph.ts';
import { mlpForwardIn, mlpParamShapes, type MlpShape } from './mlp-forward.ts';
import { measureOpsIn, type GraphMeasures, type MeasureOps, type MeasureSpec } from './mlp-measures.ts';
import { probeOpsIn, type ProbeGraphReading, type ProbeOps } from './mlp-probes.ts';

export interface StepResult {
  loss: number;
  gradNormSq: number;
  updateNormSq: number;
  /** The batch's logits before the update, [B × outputDim] row-major. */
  logits: Float32Array;
  /** With StepExtras.measure: the step's measurements (the test set's when it asked to evaluate). */
  measures?: GraphMeasures;
}

/**
 * What a step's graph does besides the step, at the new weights, so that the loop needs no other
 * run: the measurements (mlp-measures.ts) and the first-order probes on the fixed probe batch
 * (mlp-probes.ts), each when a step asks.
 */
export interface StepExtras {
  measure?: MeasureSpec;
  probe?: { x: Float32Array; y: Float32Array; fourier?: { p: number; rowOffset: number } };
}

/** What a step asks for besides the step (StepExtras): the test set evaluated, the probes read. */
export interface StepAsks {
  /** The batch's class indices (int32), for the train accuracy of a measuring classification step. */
  labels?: Int32Array;
  evaluate?: boolean;
  probe?: boolean;
}

export type { MlpShape } from './mlp-forward.ts';
export { mlpParamShapes } from './mlp-forward.ts';

const SUPPORTED: ReadonlySet<Activation> = new Set(['relu', 'quadratic', 'linear', 'tanh']);

/** Why this model and optimizer cannot run as a graph step, or undefined when they can. */
export function graphStepProblem(shape: MlpShape): string | undefined {
  if (!SUPPORTED.has(shape.activation)) return `activation ${shape.activation} has no graph form`;
  return graphAddon().why;
}

export class MlpGraphStep {
  private readonly graph: TfGraph;
  private readonly shapes: number[][];
  private readonly total: number;
  private readonly slotCount: number;
  private readonly runners = new Map<string, { runner: Runner; logits: Float32Array }>();
  private readonly names: { x: string; y: string; params: string[]; slots: string[]; scale: string; vdiv: string; decay: string; fetches: string[]; measure?: MeasureOps; probe?: ProbeOps[] };
  private readonly measured = { every: new Float32Array(0), test: new Float32Array(0) };
  /** The probe reading's arrays alternate, so a reading stays valid through the next probe step. */
  private probeTurn = 0;
  /** The weights (updates) the last probe reading is of; -1: none. */
  private probedAt = -1;
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
    private readonly extras: StepExtras = {},
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
    if (this.names.measure) this.measured.every = new Float32Array(this.names.measure.everyLength);
    if (this.names.measure) this.measured.test = new Float32Array(this.names.measure.evaluateLength);
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
    const fetches = [loss, gsq, usq, logits, ...newParams, ...newSlots];
    const e = this.extras;
    const measure = e.measure ? measureOpsIn(g, s, e.measure, logits, newParams, this.shapes) : undefined;
    let probe: ProbeOps[] | undefined;
    if (e.probe) {
      const B = e.probe.y.length / s.outputDim;
      const px = g.constant(e.probe.x, [B, s.inputDim]);
      const py = g.constant(e.probe.y, [B, s.outputDim]);
      const ops = probeOpsIn(g, s, px, py, newParams, B, e.probe.fourier);
      probe = [ops, ops.twin()];
    }
    return { x, y, params, slots, scale, vdiv, decay, fetches, ...(measure ? { measure } : {}), ...(probe ? { probe } : {}) };
  }

  private runnerFor(batch: number, evaluate: boolean, probe: boolean) {
    const key = `${batch} ${evaluate} ${probe}`;
    let r = this.runners.get(key);
    if (!r) {
      const n = this.names;
      const m = n.measure;
      const feeds: Feed[] = [
        { name: n.x, shape: [batch, this.shape.inputDim], dtype: DT.float },
        { name: n.y, shape: [batch, this.shape.outputDim], dtype: DT.float },
        ...n.params.map((name, i) => ({ name, shape: this.shapes[i]!, dtype: DT.float })),
        ...n.slots.map((name) => ({ name, shape: [this.total], dtype: DT.float })),
        { name: n.scale, shape: [], dtype: DT.float },
        { name: n.vdiv, shape: [], dtype: DT.float },
        { name: n.decay, shape: [], dtype: DT.float },
        ...(m?.labels ? [{ name: m.labels, shape: [batch], dtype: DT.int32 }] : []),
      ];
      const fetches = [...n.fetches, ...(m ? [m.every] : []), ...(m && evaluate ? [m.evaluate] : []), ...(probe ? n.probe![0]!.fetches : [])];
      r = { runner: this.graph.runner(feeds, fetches, this.threads), logits: new Float32Array(batch * this.shape.outputDim) };
      this.runners.set(key, r);
    }
    return r;
  }

  /**
   * One step on a batch (x [B × inputDim], y one-hot [B × outputDim], row-major) at this learning
   * rate. The graph computes the new weights and slots beside the current ones; when `cancelled`
   * says so after it ran, they are dropped (the step never happened) and this returns undefined.
   */
  step(x: Float32Array, y: Float32Array, lr: number, cancelled?: () => boolean, asks: StepAsks = {}): StepResult | undefined {
    const batch = y.length / this.shape.outputDim;
    if (!Number.isInteger(batch) || x.length !== batch * this.shape.inputDim) throw new Error(`a batch of ${x.length} inputs and ${y.length} targets does not fit ${this.shape.inputDim} → ${this.shape.outputDim}`);
    const m = this.names.measure;
    if (m?.labels && asks.labels?.length !== batch) throw new Error(`a measuring step takes the batch's ${batch} labels; got ${asks.labels?.length ?? 'none'}`);
    const evaluate = m !== undefined && asks.evaluate === true;
    const probe = this.names.probe !== undefined && asks.probe === true;
    const { runner, logits } = this.runnerFor(batch, evaluate, probe);
    const probeOps = probe ? this.names.probe![this.probeTurn]! : undefined;
    const o = this.opt;
    const t = this.updates + 1;
    // The scalars as optim/optimizer.ts computes them (float64, then float32).
    this.stepScalars.scale[0] = o.kind === 'sgd' ? -lr : -lr / (1 - o.beta1 ** t);
    this.stepScalars.vdiv[0] = o.kind === 'sgd' ? 1 : 1 - o.beta2 ** t;
    this.stepScalars.decay[0] = o.kind === 'adamw' ? lr * o.weightDecay : o.weightDecay;
    const { loss, gsq, usq } = this.scalars;
    runner.run(
      [x, y, ...this.params, ...this.slots, this.stepScalars.scale, this.stepScalars.vdiv, this.stepScalars.decay, ...(m?.labels ? [asks.labels!] : [])],
      [
        loss,
        gsq,
        usq,
        logits,
        ...this.outParams,
        ...this.outSlots,
        ...(m ? [this.measured.every] : []),
        ...(evaluate ? [this.measured.test] : []),
        ...(probeOps ? probeOps.outputs() : []),
      ],
    );
    if (cancelled?.()) return undefined;
    this.updates = t;
    for (let i = 0; i < this.params.length; i++) this.params[i]!.set(this.outParams[i]!);
    for (let i = 0; i < this.slots.length; i++) this.slots[i]!.set(this.outSlots[i]!);
    if (probeOps) {
      this.probedAt = t;
      this.probeTurn = 1 - this.probeTurn;
    }
    const measures = m?.read(this.measured.every, evaluate ? this.measured.test : undefined);
    return { loss: loss[0]!, gradNormSq: gsq[0]!, updateNormSq: usq[0]!, logits, ...(measures ? { measures } : {}) };
  }

  /**
   * The first-order probe reading (mlp-probes.ts) of the current weights, when the step that made
   * them read it (StepAsks.probe); undefined otherwise. Its arrays stay valid through the next
   * probe step's run.
   */
  probeReading(): ProbeGraphReading | undefined {
    if (!this.names.probe || this.probedAt !== this.updates) return undefined;
    return this.names.probe[1 - this.probeTurn]!.reading();
  }

  dispose(): void {
    this.graph.dispose();
  }
}
