import { describe, expect, it } from 'vitest';
import { tf } from './tf.ts';
import { useTestBackend } from './testing-backend.ts';
import * as so from './second-order-ops.ts';

await useTestBackend();
await tf.ready();

const xs = [0.3, -0.7, 1.1, 0.2, -1.6];
const arr = (t: tf.Tensor) => Array.from(t.dataSync());

function expectAll(got: number[], want: number[], tol = 1e-6) {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThan(tol * Math.max(1, Math.abs(want[i]!))));
}

/** f'' elementwise by nesting tf.grad twice (the sum makes the outer gradient the diagonal). */
const second = (f: (x: tf.Tensor) => tf.Tensor) =>
  tf.tidy(() => arr(tf.grad((x: tf.Tensor) => tf.sum(tf.grad((y: tf.Tensor) => tf.sum(f(y)))(x)))(tf.tensor1d(xs))));
const first = (f: (x: tf.Tensor) => tf.Tensor) => tf.tidy(() => arr(tf.grad((x: tf.Tensor) => tf.sum(f(x)))(tf.tensor1d(xs))));

const sig = (t: number) => 1 / (1 + Math.exp(-t));
const elementwise: Array<{
  name: string;
  op: (x: tf.Tensor) => tf.Tensor;
  builtin: (x: tf.Tensor) => tf.Tensor;
  d1: (t: number) => number;
  d2: (t: number) => number;
}> = [
  { name: 'tanh', op: so.tanh, builtin: tf.tanh, d1: (t) => 1 - Math.tanh(t) ** 2, d2: (t) => -2 * Math.tanh(t) * (1 - Math.tanh(t) ** 2) },
  { name: 'sigmoid', op: so.sigmoid, builtin: tf.sigmoid, d1: (t) => sig(t) * (1 - sig(t)), d2: (t) => sig(t) * (1 - sig(t)) * (1 - 2 * sig(t)) },
  { name: 'exp', op: so.exp, builtin: tf.exp, d1: Math.exp, d2: Math.exp },
];

describe.each(elementwise)('second-order-ops $name', ({ op, builtin, d1, d2 }) => {
  it('same values and first derivative as the tfjs op', () => {
    const x = tf.tensor1d(xs);
    expectAll(arr(op(x)), arr(builtin(x)));
    tf.dispose(x);
    expectAll(first(op), xs.map(d1));
  });

  it('correct second derivative (where the tfjs op has none connected)', () => {
    expectAll(second(op), xs.map(d2));
    // The tfjs op's own second derivative is disconnected: nested grads find no path.
    expect(() => second(builtin)).toThrow(/Cannot compute gradient/);
  });
});

describe('second-order-ops tanh to third order', () => {
  it("tanh''' = -2 (1 - t^2)(1 - 3 t^2), t = tanh x", () => {
    const third = tf.tidy(() =>
      arr(
        tf.grad((x: tf.Tensor) =>
          tf.sum(tf.grad((y: tf.Tensor) => tf.sum(tf.grad((z: tf.Tensor) => tf.sum(so.tanh(z)))(y)))(x)),
        )(tf.tensor1d(xs)),
      ),
    );
    expectAll(
      third,
      xs.map((x) => {
        const t = Math.tanh(x);
        return -2 * (1 - t * t) * (1 - 3 * t * t);
      }),
    );
  });
});

describe('second-order-ops logSoftmax / softmax / cross-entropy', () => {
  const logits = [0.3, -0.7, 1.1, 0.2];
  const p = (() => {
    const e = logits.map(Math.exp);
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  })();

  it('values match tf.logSoftmax and tf.softmax (2-D, last axis)', () => {
    const x = tf.tensor2d([logits, logits.map((v) => -2 * v)]);
    expectAll(arr(so.logSoftmax(x)), arr(tf.logSoftmax(x)));
    expectAll(arr(so.softmax(x)), arr(tf.softmax(x)));
    tf.dispose(x);
  });

  it('the Hessian of -log softmax(x)_c is diag(p) - p p^T, row by row from HVPs', () => {
    for (let k = 0; k < 4; k++) {
      const row = tf.tidy(() => {
        const e = tf.oneHot(k, 4).asType('float32');
        const f = (x: tf.Tensor) => tf.neg(tf.sum(tf.mul(tf.tensor1d([0, 1, 0, 0]), so.logSoftmax(x))));
        return arr(tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.grad(f)(x), e)))(tf.tensor1d(logits)));
      });
      expectAll(
        row,
        p.map((pi, i) => (i === k ? pi : 0) - pi * p[k]!),
      );
    }
  });

  it('crossEntropyPerSample equals -sum y log softmax', () => {
    const z = tf.tensor2d([logits, [1, 0, 0, -1]]);
    const y = tf.tensor2d([[0, 0, 1, 0], [1, 0, 0, 0]]);
    expectAll(arr(so.crossEntropyPerSample(z, y)), arr(tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(z)), 1))));
    tf.dispose([z, y]);
  });

  it('gelu matches the tanh approximation', () => {
    const x = tf.tensor1d(xs);
    const want = xs.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
    expectAll(arr(so.gelu(x)), want);
    tf.dispose(x);
  });
});

describe('secondOrderHazards', () => {
  /** Run f(w) under a tape and list the hazards found in its forward pass. */
  function hazardsOf(f: (w: tf.Variable) => tf.Tensor): string[] {
    const w = tf.variable(tf.tensor1d([0.3, -0.2, 0.5]));
    let found: string[] = [];
    tf.tidy(() => {
      tf.engine().gradients(
        () => {
          const tape = tf.engine().state.activeTape;
          const from = tape.length;
          const y = tf.sum(f(w)) as tf.Scalar;
          found = so.secondOrderHazards(tf.engine().state.activeTape, from, tf.engine().state.activeTape.length, [w]);
          return y;
        },
        [w],
        undefined,
        true,
      );
    });
    w.dispose();
    return found;
  }

  it('flags tfjs ops whose gradient reads their output', () => {
    expect(hazardsOf((w) => tf.tanh(w))).toEqual(['Tanh']);
    expect(hazardsOf((w) => tf.sigmoid(w))).toEqual(['Sigmoid']);
    expect(hazardsOf((w) => tf.exp(w))).toEqual(['Exp']);
    expect(hazardsOf((w) => tf.softmax(w))).toEqual(['Softmax']);
    expect(hazardsOf((w) => tf.logSoftmax(w))).toEqual(['logSoftmax']);
    expect(hazardsOf((w) => tf.losses.softmaxCrossEntropy(tf.tensor1d([0, 1, 0]), w as tf.Tensor1D))).toEqual(['softmaxCrossEntropy']);
    expect(hazardsOf((w) => tf.square(tf.tanh(tf.mul(w, 2))))).toEqual(['Tanh']);
  });

  it('does not flag ops whose gradient reads only inputs, nor ops off the parameters', () => {
    expect(hazardsOf((w) => so.tanh(w))).toEqual([]);
    expect(hazardsOf((w) => so.logSoftmax(w))).toEqual([]);
    expect(hazardsOf((w) => so.gelu(w))).toEqual([]);
    expect(hazardsOf((w) => tf.add(tf.square(w), tf.relu(w)))).toEqual([]);
    expect(hazardsOf((w) => tf.mul(w, tf.exp(tf.tensor1d([1, 2, 3]))))).toEqual([]);
    // w^3: Pow's base gradient uses inputs only; a parameter exponent is a hazard.
    expect(hazardsOf((w) => tf.pow(w, 3))).toEqual([]);
    expect(hazardsOf((w) => tf.pow(tf.scalar(2), w))).toEqual(['Pow']);
  });
});
