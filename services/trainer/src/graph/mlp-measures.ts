// The step's measurements (measurements.ts, docs/architecture.md "Metrics") as operations of the
// step's own graph (mlp-step.ts): the train accuracy and softmax collapse of the batch's logits,
// and at the new weights the parameter norms, the distance from initialisation and, on evaluation
// steps, the test loss and accuracy. Op by op they are ~30 eager ops and a read back a step, the
// test forward pass included (about as long as the step itself on the reference MLP); in the step's
// graph they cost no run of their own. The test set and the initial weights are constants of the
// graph: nothing is copied in for them a step.
import { mlpForwardIn, type MlpShape } from './mlp-forward.ts';
import { DT, type TfGraph } from './tf-graph.ts';

export interface MeasureSpec {
  /** Classification: the batch's labels are fed, for the train accuracy; the softmax collapse. */
  classification: boolean;
  /** The test set (one-hot y; labels for a classification task), evaluated when a step asks. */
  test: { x: Float32Array; y: Float32Array; labels?: Int32Array };
  /** The weights at initialisation (mlpParamShapes order), for init_distance; absent on a resumed run. */
  initial?: Float32Array[];
}

/** What the graph measures at a step (measurements.ts's Measurements, less what the step itself returns). */
export interface GraphMeasures {
  trainAcc: number | null;
  softmaxCollapse: number | null;
  /** ‖W‖ per parameter, in mlpParamShapes order (models/mlp.ts's params order). */
  norms: number[];
  initDistance: number | null;
  testLoss: number | null;
  testAcc: number | null;
}

/** The measurement ops built into the step's graph, and how to read their fetches. */
export interface MeasureOps {
  /** The batch's labels (int32 [B]), a classification step's feed. */
  labels?: string;
  /** Fetched every step: one float32 vector (trainAcc?, collapse?, norms..., initDistance?). */
  every: string;
  everyLength: number;
  /** Fetched on evaluation steps: [testLoss, testAcc?]. */
  evaluate: string;
  evaluateLength: number;
  /** The measures from the fetched vectors (`test` absent when the step did not evaluate). */
  read(every: Float32Array, test: Float32Array | undefined): GraphMeasures;
}

/** √Σ t² over every element. */
const normOf = (g: TfGraph, t: string, rank: number) => g.op('Sqrt', [g.op('Sum', [g.op('Square', [t]), g.ints([...Array(rank).keys()])])]);

/** metrics.ts's accuracy: the share of rows whose arg max is the label. */
function accuracyIn(g: TfGraph, logits: string, labels: string): string {
  const predicted = g.op('ArgMax', [logits, g.int(1)], [['output_type', 'type', DT.int32]]);
  return g.op('Mean', [g.op('Cast', [g.op('Equal', [predicted, labels])], [['SrcT', 'type', DT.bool], ['DstT', 'type', DT.float]]), g.ints([0])]);
}

/** metrics.ts's softmaxCollapse: the share of rows whose float32 normaliser Σ exp(l − max l) is exactly 1. */
function softmaxCollapseIn(g: TfGraph, logits: string): string {
  const shifted = g.op('Sub', [logits, g.op('Max', [logits, g.ints([1])], [['keep_dims', 'bool', true]])]);
  const normaliser = g.op('Sum', [g.op('Exp', [shifted]), g.ints([1])]);
  return g.op('Mean', [g.op('Cast', [g.op('Equal', [normaliser, g.scalar(1)])], [['SrcT', 'type', DT.bool], ['DstT', 'type', DT.float]]), g.ints([0])]);
}

/**
 * The measurement ops on the step's logits (before the update) and its new weights (`params`,
 * mlpParamShapes order, with `shapes` their shapes).
 */
export function measureOpsIn(g: TfGraph, s: MlpShape, spec: MeasureSpec, logits: string, params: string[], shapes: number[][]): MeasureOps {
  const packed = (ts: string[]) => g.op('Pack', [ts], [['N', 'int', ts.length]]);
  const every: string[] = [];
  let labels: string | undefined;
  if (spec.classification) {
    labels = g.placeholder('labels', DT.int32, [-1]);
    every.push(accuracyIn(g, logits, labels), softmaxCollapseIn(g, logits));
  }
  every.push(...params.map((p, i) => normOf(g, p, shapes[i]!.length)));
  if (spec.initial) {
    const initial = spec.initial.map((w, i) => g.constant(w, shapes[i]!));
    const squares = params.map((p, i) => g.op('Sum', [g.op('Square', [g.op('Sub', [p, initial[i]!])]), g.ints([...shapes[i]!.keys()])]));
    every.push(g.op('Sqrt', [squares.length === 1 ? squares[0]! : g.op('AddN', [squares], [['N', 'int', squares.length]])]));
  }

  const n = spec.test.y.length / s.outputDim;
  const tx = g.constant(spec.test.x, [n, s.inputDim]);
  const ty = g.constant(spec.test.y, [n, s.outputDim]);
  const testLogits = mlpForwardIn(g, s, tx, params);
  // The mean softmax cross-entropy, as the step's loss (second-order-ops.ts's, fused).
  const test = [g.op('Mean', [`${g.op('SoftmaxCrossEntropyWithLogits', [testLogits, ty])}:0`, g.ints([0])])];
  const testLabels = spec.classification && spec.test.labels ? g.constant(spec.test.labels, [n]) : undefined;
  if (testLabels) test.push(accuracyIn(g, testLogits, testLabels));

  const count = params.length;
  return {
    ...(labels ? { labels } : {}),
    every: packed(every),
    everyLength: every.length,
    evaluate: packed(test),
    evaluateLength: test.length,
    read: (v, t) => {
      let i = 0;
      const trainAcc = spec.classification ? v[i++]! : null;
      const softmaxCollapse = spec.classification ? v[i++]! : null;
      const norms = Array.from(v.subarray(i, i + count));
      i += count;
      const initDistance = spec.initial ? v[i++]! : null;
      return { trainAcc, softmaxCollapse, norms, initDistance, testLoss: t ? t[0]! : null, testAcc: t && testLabels ? t[1]! : null };
    },
  };
}
