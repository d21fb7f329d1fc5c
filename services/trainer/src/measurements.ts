// What one training step measures (docs/architecture.md, "Metrics"), computed on tensors and read
// back in one transfer: a typed layout of slots in one stacked tensor, not a string-keyed bag.
import type { StepMetrics } from '@grokstream/schemas';
import { tf } from './tf.ts';
import type { Model } from './models/model.ts';
import type { Task } from './tasks/task.ts';
import { accuracy, initDistance, paramNorms, softmaxCollapse } from './metrics.ts';

export interface StepInputs {
  model: Model;
  task: Task;
  /** The step's batch outputs (logits) and labels, as the forward pass left them. */
  out: tf.Tensor2D;
  labels?: tf.Tensor1D;
  loss: tf.Scalar;
  gradNormSq: tf.Scalar;
  /** Evaluate on the test set at this step. */
  evaluate: boolean;
  /** The parameters at initialisation (absent on a resumed run). */
  initial?: tf.Tensor[];
}

export interface Measurements {
  trainLoss: number;
  trainAcc: number | null;
  testLoss: number | null;
  testAcc: number | null;
  softmaxCollapse: number | null;
  gradNormSq: number;
  /** ‖W‖ per parameter, in model.params order. */
  norms: number[];
  lastLayerNorm: number;
  initDistance: number | null;
  /** The model's own diagnostics (Model.diagnostics), by name. */
  diagnostics: Record<string, number>;
}

/** The step's measurements; disposes every tensor it makes (not the inputs). */
export async function measureStep(s: StepInputs): Promise<Measurements> {
  const { model, task } = s;
  const classification = task.kind === 'classification';
  const lastDense = model.denseLayers[model.denseLayers.length - 1]!;
  const slots: tf.Scalar[] = [];
  const slot = (t: tf.Scalar) => slots.push(t) - 1;
  const build = () => {
    const testOut = s.evaluate ? model.forward(task.test.x) : undefined;
    return {
      trainLoss: slot(tf.clone(s.loss)),
      gradNormSq: slot(tf.clone(s.gradNormSq)),
      trainAcc: classification && s.labels ? slot(accuracy(s.out, s.labels)) : undefined,
      softmaxCollapse: classification ? slot(softmaxCollapse(s.out)) : undefined,
      testLoss: testOut ? slot(tf.mean(task.perSampleLoss(testOut, task.test.y)) as tf.Scalar) : undefined,
      testAcc: testOut && classification && task.test.labels ? slot(accuracy(testOut, task.test.labels)) : undefined,
      norms: paramNorms(model).map(slot),
      lastLayerNorm: slot(tf.norm(lastDense.weight) as tf.Scalar),
      initDistance: s.initial ? slot(initDistance(model, s.initial)) : undefined,
      // What the model itself can tell (a capability, models/model.ts).
      diagnostics: Object.entries(model.diagnostics?.() ?? {}).map(([name, t]) => [name, slot(t)] as const),
    };
  };
  // Everything in between is freed by tidy; the slots are kept for the one read-back.
  let layout!: ReturnType<typeof build>;
  tf.tidy(() => {
    layout = build();
    for (const t of slots) tf.keep(t);
  });
  const stacked = tf.stack(slots);
  const values = (await stacked.data()) as Float32Array;
  tf.dispose([stacked, ...slots]);
  const at = (i: number) => values[i]!;
  const maybe = (i: number | undefined) => (i === undefined ? null : at(i));
  return {
    trainLoss: at(layout.trainLoss),
    trainAcc: maybe(layout.trainAcc),
    testLoss: maybe(layout.testLoss),
    testAcc: maybe(layout.testAcc),
    softmaxCollapse: maybe(layout.softmaxCollapse),
    gradNormSq: at(layout.gradNormSq),
    norms: layout.norms.map(at),
    lastLayerNorm: at(layout.lastLayerNorm),
    initDistance: maybe(layout.initDistance),
    diagnostics: Object.fromEntries(layout.diagnostics.map(([name, i]) => [name, at(i)])),
  };
}

/** The StepMetrics event of a measured step; `envelope` is the event's id, run, seq and time. */
export function stepMetrics(
  envelope: Pick<StepMetrics, 'event_id' | 'run_id' | 'seq' | 'ts'>,
  step: number,
  lr: number,
  m: Measurements,
  updateNormSq: number,
): StepMetrics {
  return {
    ...envelope,
    step,
    train_loss: m.trainLoss,
    train_acc: m.trainAcc,
    test_loss: m.testLoss,
    test_acc: m.testAcc,
    lr,
    weight_norm: Math.sqrt(m.norms.reduce((a, n) => a + n * n, 0)),
    layer_norms: m.norms,
    grad_norm_sq: m.gradNormSq,
    update_norm: Math.sqrt(updateNormSq),
    softmax_collapse_frac: m.softmaxCollapse,
    last_layer_norm: m.lastLayerNorm,
    init_distance: m.initDistance,
    extra: m.diagnostics,
  };
}
