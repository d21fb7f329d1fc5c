// Tiny models for the probe tests and the probe benchmark, each with a float64 plain-JS twin of
// its forward pass so brute-force checks do not go through tfjs.
import { tf } from '../tf.ts';
import { Rng } from '../random.ts';
import type { DenseLayer, ForwardTrace, Model } from '../models/model.ts';
import * as so from '../second-order-ops.ts';

/** 'tanh-builtin' is tf.tanh, whose second derivative tfjs gets wrong (see second-order-ops.ts). */
export type TestActivation = 'tanh' | 'tanh-builtin' | 'quadratic' | 'relu' | 'linear';

export interface TestMlpOptions {
  /** [input width per position, hidden..., output]. */
  sizes: number[];
  activation: TestActivation;
  bias: boolean;
  seed: number;
  /** Weights ~ N(0, initScale^2 / fan_in); default 1. */
  initScale?: number;
  /** A learnable elementwise gain after the first activation: a parameter no dense layer covers. */
  gain?: boolean;
  /** The input is T positions of width sizes[0] ([B, T*sizes[0]]); the first layer is shared by them. */
  positions?: number;
  /** With positions: apply the first layer once per position (T trace entries of B rows each). */
  separateUses?: boolean;
}

export interface TestModel extends Model {
  /** float64 output of one sample, given float64 parameters in `params` order. */
  reference(theta: readonly Float64Array[], x: ArrayLike<number>): number[];
}

let instances = 0;

const tfActivation: Record<TestActivation, (z: tf.Tensor) => tf.Tensor> = {
  tanh: so.tanh,
  'tanh-builtin': (z) => tf.tanh(z),
  quadratic: (z) => tf.square(z),
  relu: (z) => tf.relu(z),
  linear: (z) => z,
};
const jsActivation: Record<TestActivation, (z: number) => number> = {
  tanh: Math.tanh,
  'tanh-builtin': Math.tanh,
  quadratic: (z) => z * z,
  relu: (z) => Math.max(0, z),
  linear: (z) => z,
};

/** MLP (or deep linear net: activation 'linear', bias false) implementing Model. */
export function testMlp(o: TestMlpOptions): TestModel {
  const id = instances++;
  const rng = new Rng(o.seed);
  const T = o.positions ?? 1;
  const scale = o.initScale ?? 1;
  const act = tfActivation[o.activation];
  const actJs = jsActivation[o.activation];
  const params: tf.Variable[] = [];
  const paramNames: string[] = [];
  const variable = (name: string, shape: number[], values: () => number) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const v = tf.variable(tf.tensor(Float32Array.from({ length: size }, values), shape), true, `probe-test-m${id}.${name}`);
    params.push(v);
    paramNames.push(name);
    return v;
  };
  const layers: DenseLayer[] = [];
  const nLayers = o.sizes.length - 1;
  let gain: tf.Variable | undefined;
  for (let l = 0; l < nLayers; l++) {
    const fanIn = l === 1 ? T * o.sizes[1]! : o.sizes[l]!;
    const fanOut = o.sizes[l + 1]!;
    const std = scale / Math.sqrt(fanIn);
    const layer: DenseLayer = { name: `layer${l}`, weight: variable(`layer${l}.W`, [fanIn, fanOut], () => std * rng.normal()) };
    if (o.bias) layer.bias = variable(`layer${l}.b`, [fanOut], () => 0.1 * rng.normal());
    layers.push(layer);
    if (l === 0 && o.gain) gain = variable('gain', [fanOut], () => 1 + 0.3 * rng.normal());
  }

  const trace = (x: tf.Tensor2D, dz?: tf.Tensor2D[]): ForwardTrace => {
    const records: ForwardTrace['dense'] = [];
    const apply = (layer: DenseLayer, a: tf.Tensor2D, positions: number): tf.Tensor2D => {
      let z = tf.matMul(a, layer.weight) as tf.Tensor2D;
      if (layer.bias) z = tf.add(z, layer.bias);
      if (dz) z = tf.add(z, dz[records.length]!);
      records.push({ layer, input: a, z, positions });
      return z;
    };
    const n = x.shape[0];
    const w0 = o.sizes[0]!;
    const h0 = o.sizes[1]!;
    let z0: tf.Tensor2D;
    if (T > 1 && o.separateUses) {
      const parts = Array.from({ length: T }, (_, t) => tf.reshape(apply(layers[0]!, tf.slice(x, [0, t * w0], [n, w0]), 1), [n, 1, h0]));
      z0 = tf.reshape(tf.concat(parts, 1), [n * T, h0]);
    } else {
      z0 = apply(layers[0]!, T > 1 ? tf.reshape(x, [n * T, w0]) : x, T);
    }
    let h = nLayers > 1 ? (act(z0) as tf.Tensor2D) : z0;
    if (gain) h = tf.mul(h, gain);
    h = tf.reshape(h, [n, T * h0]);
    for (let l = 1; l < nLayers; l++) {
      const z = apply(layers[l]!, h, 1);
      h = l < nLayers - 1 ? (act(z) as tf.Tensor2D) : z;
    }
    return { output: h, dense: records };
  };

  const reference = (theta: readonly Float64Array[], x: ArrayLike<number>): number[] => {
    let k = 0;
    const next = () => theta[k++]!;
    const w: Float64Array[] = [];
    const b: Array<Float64Array | undefined> = [];
    let g: Float64Array | undefined;
    for (let l = 0; l < nLayers; l++) {
      w.push(next());
      b.push(o.bias ? next() : undefined);
      if (l === 0 && o.gain) g = next();
    }
    const dense = (l: number, a: ArrayLike<number>, offset: number, width: number): number[] => {
      const out = o.sizes[l + 1]!;
      const z = Array.from({ length: out }, (_, j) => b[l]?.[j] ?? 0);
      for (let i = 0; i < width; i++) for (let j = 0; j < out; j++) z[j]! += a[offset + i]! * w[l]![i * out + j]!;
      return z;
    };
    const w0 = o.sizes[0]!;
    let h: number[] = [];
    for (let t = 0; t < T; t++) {
      let z = dense(0, x, t * w0, w0);
      if (nLayers > 1) z = z.map(actJs);
      if (g) z = z.map((v, j) => v * g[j]!);
      h.push(...z);
    }
    for (let l = 1; l < nLayers; l++) {
      const z = dense(l, h, 0, h.length);
      h = l < nLayers - 1 ? z.map(actJs) : z;
    }
    return h;
  };

  const dims = o.sizes.join('-');
  return {
    description: `test-mlp(${dims}, ${o.activation}${o.bias ? '' : ', no bias'}${o.gain ? ', gain' : ''}${T > 1 ? `, ${T} positions` : ''})`,
    params,
    paramNames,
    denseLayers: layers,
    forward: (x) => trace(x).output,
    trace,
    reference,
    dispose: () => tf.dispose(params),
  };
}

// ---------------------------------------------------------------- losses and data

export type TestLossKind = 'half-mse' | 'cross-entropy';

/** ½‖ŷ − y‖² per sample. */
export function halfSquaredError(out: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.mul(0.5, tf.sum(tf.square(tf.sub(out, y)), 1)) as tf.Tensor1D);
}

export const testLoss: Record<TestLossKind, (out: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor1D> = {
  'half-mse': halfSquaredError,
  'cross-entropy': so.crossEntropyPerSample,
};

/** float64 per-sample loss of one output row against one target row. */
export function referenceLoss(kind: TestLossKind, out: readonly number[], y: ArrayLike<number>): number {
  if (kind === 'half-mse') return 0.5 * out.reduce((s, v, j) => s + (v - y[j]!) ** 2, 0);
  const max = Math.max(...out);
  const lse = max + Math.log(out.reduce((s, v) => s + Math.exp(v - max), 0));
  return -out.reduce((s, v, j) => s + y[j]! * (v - lse), 0);
}

/** Gaussian inputs [n, width] and targets [n, outDim]: Gaussian (regression) or one-hot (classification). */
export function testBatch(
  n: number,
  width: number,
  outDim: number,
  kind: TestLossKind,
  seed: number,
): { x: tf.Tensor2D; y: tf.Tensor2D; xRows: Float64Array[]; yRows: Float64Array[] } {
  const rng = new Rng(seed);
  const xRows = Array.from({ length: n }, () => Float64Array.from({ length: width }, () => Math.fround(rng.normal())));
  const yRows = Array.from({ length: n }, () => {
    if (kind === 'half-mse') return Float64Array.from({ length: outDim }, () => Math.fround(rng.normal()));
    const row = new Float64Array(outDim);
    row[rng.int(outDim)] = 1;
    return row;
  });
  const flat = (rows: Float64Array[], w: number) => {
    const f = new Float32Array(rows.length * w);
    rows.forEach((r, i) => f.set(r, i * w));
    return f;
  };
  return { x: tf.tensor2d(flat(xRows, width), [n, width]), y: tf.tensor2d(flat(yRows, outDim), [n, outDim]), xRows, yRows };
}
