// Ops with a correct second derivative in tfjs, and a detector for the ones without.
//
// tfjs 4.22 computes higher-order gradients by nesting tf.grads: the inner backward pass runs while
// the outer tape records, and the outer pass differentiates it. That works for every gradient that
// is written in terms of the op's INPUTS. It silently breaks for gradients written in terms of the
// op's OUTPUT (Tanh: dy * (1 - y^2), Sigmoid, Exp, Softmax, tf.logSoftmax, tf.losses.
// softmaxCrossEntropy, Elu, and Pow's exponent gradient): the engine saves a clone of the output for
// the backward pass, and that Identity node is put on the tape BEFORE the node that produced the
// output (engine.ts saveTensorsForBackwardMode runs inside the kernel, addTapeNode after it), so the
// tape walk from the parameters never reaches the clone. The outer pass then treats y as a
// constant: no error, just a Hessian without the op's own curvature term (for tanh the
// -2 tanh (1 - tanh^2) term; for log-softmax the whole diag(p) - p p^T block, i.e. the
// Gauss-Newton part of a cross-entropy Hessian).
//
// The ops below are tf.customGrad ops that save their INPUT and write the derivative with ops of
// this file, so their derivatives are connected on the tape to any order. Models and losses whose
// Hessian probes matter should use them; `secondOrderHazards` finds the ones that do not.
import { tf } from './tf.ts';

type Unary = (x: tf.Tensor) => tf.Tensor;

/** A unary op whose gradient is dy * derivative(x), computed from the saved input x. */
function fromInput(forward: Unary, derivative: Unary): Unary {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    save([x]);
    return { value: forward(x), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, derivative(saved[0]!)) };
  });
  return (x) => op(x);
}

/** tanh with tanh'(x) = 1 - tanh(x)^2 taken from x (differentiable to any order). */
export const tanh: Unary = fromInput(
  (x) => tf.tanh(x),
  (x) => tf.sub(1, tf.square(tanh(x))),
);

/** Logistic sigmoid with s'(x) = s(x)(1 - s(x)) taken from x. */
export const sigmoid: Unary = fromInput(
  (x) => tf.sigmoid(x),
  (x) => {
    const s = sigmoid(x);
    return tf.mul(s, tf.sub(1, s));
  },
);

/** exp with exp'(x) = exp(x) taken from x. */
export const exp: Unary = fromInput(
  (x) => tf.exp(x),
  (x) => exp(x),
);

const logSoftmaxOp = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  save([x]);
  // Forward pass is not taped (it runs inside the custom op), so the max shift needs no gradient.
  const shifted = tf.sub(x, tf.max(x, -1, true));
  const value = tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)));
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.sub(dy, tf.mul(tf.sum(dy, -1, true), softmax(saved[0]!))),
  };
});

/** log-softmax over the last axis; the gradient uses softmax(x) recomputed from x. */
export function logSoftmax<T extends tf.Tensor>(x: T): T {
  return logSoftmaxOp(x) as T;
}

/** softmax over the last axis, as exp(logSoftmax(x)). */
export function softmax<T extends tf.Tensor>(x: T): T {
  return exp(logSoftmax(x)) as T;
}

/** GELU, tanh approximation (Hendrycks & Gimpel), with the twice-differentiable tanh and z*z*z for z^3. */
export function gelu(z: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    tf.mul(tf.mul(0.5, z), tf.add(1, tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(z, tf.mul(0.044715, tf.mul(z, tf.mul(z, z)))))))),
  );
}

/** Softmax cross-entropy per sample, -sum_c y_c log softmax(logits)_c, with one-hot (or soft) targets. */
export function crossEntropyPerSample(logits: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(y, logSoftmax(logits)), 1)) as tf.Tensor1D);
}

// ---------------------------------------------------------------- detection

/** One node of the engine's gradient tape (tfjs does not export the type by name). */
export type TapeNode = ReturnType<typeof tf.engine>['state']['activeTape'][number];

/**
 * The ops recorded in tape[from, to) whose second derivative tfjs gets wrong, restricted to those
 * whose inputs depend on `params` (others do not enter a Hessian with respect to them). Found
 * structurally, from the clones the engine keeps for backward passes (a node whose output is
 * `kept`): (1) a clone of a tensor produced by a LATER node is a saved output (see the top of this
 * file), and that later node is the culprit; (2) a clone of a tensor no tape node produced and that
 * is already freed is an intermediate saved inside a tf.customGrad forward pass (e.g. the
 * log-probabilities of tf.losses.softmaxCrossEntropy), and the custom op recorded next is the
 * culprit. Pow is reported only when its exponent depends on params (its base gradient uses
 * inputs only). Returns op names without tfjs' '__op' suffix, deduplicated, e.g. ['Tanh'].
 */
export function secondOrderHazards(tape: readonly TapeNode[], from: number, to: number, params: readonly tf.Tensor[]): string[] {
  const producer = new Map<number, number>();
  for (let i = from; i < to; i++) for (const o of tape[i]!.outputs) producer.set(o.id, i);
  // Tensors that depend on params, in tape order (a saved-output clone is missed here, which is
  // the point: nothing downstream of it is connected to the params).
  const fromParams = new Set(params.map((p) => p.id));
  for (let i = from; i < to; i++) {
    const node = tape[i]!;
    if (Object.values(node.inputs).some((t) => fromParams.has(t.id))) for (const o of node.outputs) fromParams.add(o.id);
  }
  const found = new Set<string>();
  const isClone = (node: TapeNode) => node.outputs.length === 1 && node.outputs[0]!.kept;
  const report = (culprit: TapeNode) => {
    const relevant =
      culprit.kernelName === 'Pow'
        ? culprit.inputs.b !== undefined && fromParams.has(culprit.inputs.b.id)
        : Object.values(culprit.inputs).some((t) => fromParams.has(t.id));
    if (relevant) found.add(culprit.kernelName.replace(/__op$/, ''));
  };
  for (let i = from; i < to; i++) {
    const node = tape[i]!;
    if (!isClone(node)) continue;
    for (const input of Object.values(node.inputs)) {
      const j = producer.get(input.id);
      if (j !== undefined && j > i) report(tape[j]!);
      if (j === undefined && input.isDisposed) {
        let k = i + 1;
        while (k < to && isClone(tape[k]!)) k++;
        const next = tape[k];
        // A kernel's own saved inputs (e.g. a constant made in a tidy) are fine; a saved tensor
        // that is neither input nor output of the op recorded next was made inside a custom op.
        const own = next && [...Object.values(next.inputs), ...next.outputs].some((t) => t.id === input.id);
        if (next && k < to && !own) report(next);
      }
    }
  }
  return [...found];
}

/** Raised by the Hessian probes when the loss uses an op from `secondOrderHazards`. */
export class SecondOrderHazardError extends Error {
  constructor(readonly ops: string[]) {
    super(
      `tfjs computes a wrong second derivative (silently, without its curvature term) for ${ops.join(', ')} ` +
        'used on the parameters: Hessian probes would be wrong. Use the ops of probes/second-order-ops.ts ' +
        '(tanh, sigmoid, exp, logSoftmax, softmax, gelu, crossEntropyPerSample) in the model and loss.',
    );
    this.name = 'SecondOrderHazardError';
  }
}
