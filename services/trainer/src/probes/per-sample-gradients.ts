// Materialised per-sample gradients g_i of the per-sample losses L_i, one [B, ...param shape]
// tensor per parameter. Dense layers get theirs from the traced inputs and deltas
// (g_i(W) = sum_t a_it^T δ_it, g_i(b) = sum_t δ_it: one batched matmul, no per-sample backward);
// any other parameter falls back to a loop of single-sample backward passes.
import { tf } from '../tf.ts';
import type { Model } from '../models/model.ts';
import { sampleOf, type PerSampleLoss, type ProbeBatch, type TracedDeltas } from './deltas.ts';

/** Per-sample gradients of `vars` by B single-sample backward passes: [B, ...shape] per variable. */
export function perSampleGradientsByLoop<Y extends tf.Tensor>(
  model: Model,
  lossFn: PerSampleLoss<Y>,
  batch: ProbeBatch<Y>,
  vars: readonly tf.Variable[],
): tf.Tensor[] {
  if (vars.length === 0) return [];
  const B = batch.x.shape[0];
  const rows: tf.Tensor[][] = vars.map(() => []);
  try {
    for (let i = 0; i < B; i++) {
      const grads = tf.tidy(() => {
        const xi = tf.slice(batch.x, [i, 0], [1, -1]);
        const yi = sampleOf(batch.y, i);
        const { grads: g } = tf.engine().gradients(() => tf.sum(lossFn(model.forward(xi), yi)) as tf.Scalar, [...vars], undefined, true);
        return g.map((gv, k) => tf.expandDims(gv ?? tf.zerosLike(vars[k]!), 0));
      });
      grads.forEach((g, k) => rows[k]!.push(g));
    }
    return rows.map((r) => tf.concat(r, 0));
  } finally {
    tf.dispose(rows.flat());
  }
}

/**
 * Per-sample gradients of traced.uncovered, each [B, ...param shape], in that order: from the
 * trace's deltas where it gives them (TracedDeltas.fromDeltas: no pass per sample), by the loop
 * above for the rest. The caller owns (and disposes) every tensor returned.
 */
export function uncoveredGradients<Y extends tf.Tensor>(model: Model, lossFn: PerSampleLoss<Y>, batch: ProbeBatch<Y>, traced: TracedDeltas): tf.Tensor[] {
  const B = traced.batchSize;
  const byLoop = traced.uncovered.filter((v) => !traced.fromDeltas.has(v));
  const looped = perSampleGradientsByLoop(model, lossFn, batch, byLoop);
  return traced.uncovered.map((v) => {
    const delta = traced.fromDeltas.get(v);
    return delta ? tf.reshape(delta, [B, ...v.shape]) : looped[byLoop.indexOf(v)]!;
  });
}

/**
 * Per-sample gradients of every parameter, in model.params order, each [B, ...shape]. Pass
 * `uncoveredGrads` (uncoveredGradients of traced) when already computed; they are
 * then returned in place, not copied.
 */
export function perSampleGradients<Y extends tf.Tensor>(
  model: Model,
  lossFn: PerSampleLoss<Y>,
  batch: ProbeBatch<Y>,
  traced: TracedDeltas,
  uncoveredGrads?: readonly tf.Tensor[],
): tf.Tensor[] {
  const B = traced.batchSize;
  const byParam = new Map<tf.Variable, tf.Tensor>();
  tf.tidy(() => {
    for (const { layer, uses } of traced.layers) {
      const [nIn, nOut] = layer.weight.shape as [number, number];
      let gW: tf.Tensor | undefined;
      let gb: tf.Tensor | undefined;
      for (const { positions: T, input, delta } of uses) {
        const a3 = tf.reshape(input, [B, T, nIn]);
        const d3 = tf.reshape(delta, [B, T, nOut]);
        const w = tf.matMul(a3, d3, true, false); // [B, in, out]
        gW = gW ? tf.add(gW, w) : w;
        if (layer.bias) {
          const b = tf.sum(d3, 1); // [B, out]
          gb = gb ? tf.add(gb, b) : b;
        }
      }
      byParam.set(layer.weight, tf.keep(gW!));
      if (layer.bias) byParam.set(layer.bias, tf.keep(gb!));
    }
  });
  const fallback = uncoveredGrads ?? uncoveredGradients(model, lossFn, batch, traced);
  traced.uncovered.forEach((v, k) => byParam.set(v, fallback[k]!));
  return model.params.map((p) => byParam.get(p)!);
}

/**
 * sum_i c_i g_i for per-sample weights c (length B) as the gradient of sum_i c_i L_i: one forward
 * and one backward pass, no traced deltas. Exact under the loss contract (sample i's loss depends
 * on row i only: probes/index.ts), for any model. One tensor per parameter, model.params order;
 * the caller disposes them.
 */
export function weightedLossGradient<Y extends tf.Tensor>(model: Model, lossFn: PerSampleLoss<Y>, batch: ProbeBatch<Y>, c: Float32Array): tf.Tensor[] {
  const B = batch.x.shape[0];
  if (c.length !== B) throw new Error(`weightedLossGradient: ${c.length} weights for a batch of ${B}`);
  return tf.tidy(() => {
    const weights = tf.tensor1d(c);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(lossFn(model.forward(batch.x), batch.y), weights)) as tf.Scalar, model.params);
    return model.params.map((p) => grads[p.name]!);
  });
}

/**
 * sum_i c_i g_i for per-sample weights c (length B), without materialising the g_i: a dense
 * layer's is sum over its uses of A^T diag(c) D (each sample's weight on every row of its own,
 * the bias sum_rows diag(c) D), an uncovered parameter's c^T G from its per-sample gradients
 * (`uncoveredGrads`, traced.uncovered order). One tensor per parameter, model.params order; the
 * caller disposes them.
 */
export function weightedGradientSum(model: Model, traced: TracedDeltas, uncoveredGrads: readonly tf.Tensor[], c: Float32Array): tf.Tensor[] {
  const B = traced.batchSize;
  if (c.length !== B) throw new Error(`weightedGradientSum: ${c.length} weights for a batch of ${B}`);
  if (uncoveredGrads.length !== traced.uncovered.length) throw new Error('one per-sample gradient tensor per uncovered parameter');
  return tf.tidy(() => {
    const byParam = new Map<tf.Variable, tf.Tensor>();
    const weights = tf.tensor1d(c);
    for (const { layer, uses } of traced.layers) {
      let gW: tf.Tensor | undefined;
      let gb: tf.Tensor | undefined;
      for (const { positions: T, input, delta } of uses) {
        // Row i*T + t belongs to sample i: its weight is c_i.
        const rowWeights = T === 1 ? weights : tf.reshape(tf.tile(tf.reshape(weights, [B, 1]), [1, T]), [B * T]);
        const weighted = tf.mul(delta, tf.reshape(rowWeights, [B * T, 1]));
        const w = tf.matMul(input, weighted, true, false);
        gW = gW ? tf.add(gW, w) : w;
        if (layer.bias) {
          const b = tf.sum(weighted, 0);
          gb = gb ? tf.add(gb, b) : b;
        }
      }
      byParam.set(layer.weight, gW!);
      if (layer.bias) byParam.set(layer.bias, gb!);
    }
    traced.uncovered.forEach((v, k) => {
      const g = uncoveredGrads[k]!;
      byParam.set(v, tf.reshape(tf.matMul(tf.reshape(weights, [1, B]), tf.reshape(g, [B, -1])), v.shape));
    });
    return model.params.map((p) => byParam.get(p)!);
  });
}
