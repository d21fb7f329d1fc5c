// SGD (momentum, Nesterov), Adam and AdamW written on tfjs ops, so the update and its norm are
// visible to the probes and the optimizer state goes into checkpoints.
import { tf } from '../tf.ts';

export interface OptimizerOptions {
  kind: 'sgd' | 'adam' | 'adamw';
  momentum: number;
  nesterov: boolean;
  beta1: number;
  beta2: number;
  eps: number;
  /** adamw: decoupled decay (W ← W − lr·wd·W); sgd/adam: L2 penalty added to the gradient. */
  weightDecay: number;
}

export interface Optimizer {
  /** Applies one update with this learning rate; returns ‖ΔW‖² over all parameters. */
  apply(grads: tf.Tensor[], lr: number): number;
  /** Number of updates applied so far (Adam's bias correction needs it). */
  readonly updates: number;
  state(): { updates: number; slots: tf.Variable[] };
  load(updates: number, slots: Float32Array[]): void;
  dispose(): void;
}

let instances = 0;

/**
 * The optimizer's slots (momentum, Adam's moments) are one flat vector each over all parameters,
 * and the update is computed once on the concatenated gradient: tfjs runs every op eagerly, at a
 * fixed cost per op (~40 µs on native TensorFlow), so ~20 ops per parameter made the update of
 * the transformer (17 parameters) ~340 ops a step; flat, it is ~20 plus a reshape and an assign
 * per parameter. Constants are scalar tensors made once.
 */
export function optimizer(params: tf.Variable[], o: OptimizerOptions): Optimizer {
  const id = instances++; // variable names are global in tfjs
  const sizes = params.map((p) => p.size);
  const total = sizes.reduce((a, b) => a + b, 0);
  // tf.variable keeps its initial tensor alive unless created inside tidy.
  const slot = (tag: string) => tf.tidy(() => tf.variable(tf.zeros([total]), false, `opt${id}.${tag}`));
  const first = o.kind === 'sgd' ? (o.momentum > 0 ? [slot('m')] : []) : [slot('m')];
  const second = o.kind === 'sgd' ? [] : [slot('v')];
  const constants = tf.tidy(() =>
    Object.fromEntries(
      Object.entries({ beta1: o.beta1, oneMinusBeta1: 1 - o.beta1, beta2: o.beta2, oneMinusBeta2: 1 - o.beta2, eps: o.eps, momentum: o.momentum, weightDecay: o.weightDecay }).map(
        ([k, v]) => [k, tf.keep(tf.scalar(v))],
      ),
    ),
  ) as Record<'beta1' | 'oneMinusBeta1' | 'beta2' | 'oneMinusBeta2' | 'eps' | 'momentum' | 'weightDecay', tf.Scalar>;
  let updates = 0;
  const flat = (ts: readonly tf.Tensor[]) => (ts.length === 1 ? tf.reshape(ts[0]!, [total]) : tf.concat(ts.map((t) => tf.reshape(t, [-1]))));

  const apply = (grads: tf.Tensor[], lr: number): number => {
    updates++;
    const sq = tf.tidy(() => {
      const c = constants;
      let g = flat(grads);
      // L2 weight decay (sgd, adam) enters the gradient; AdamW's is decoupled (below).
      if (o.kind !== 'adamw' && o.weightDecay > 0) g = tf.add(g, tf.mul(c.weightDecay, flat(params)));
      let delta: tf.Tensor;
      if (o.kind === 'sgd') {
        if (o.momentum > 0) {
          const m = tf.add(tf.mul(c.momentum, first[0]!), g);
          first[0]!.assign(m);
          delta = tf.mul(-lr, o.nesterov ? tf.add(g, tf.mul(c.momentum, m)) : m);
        } else {
          delta = tf.mul(-lr, g);
        }
      } else {
        const m = tf.add(tf.mul(c.beta1, first[0]!), tf.mul(c.oneMinusBeta1, g));
        const v = tf.add(tf.mul(c.beta2, second[0]!), tf.mul(c.oneMinusBeta2, tf.square(g)));
        first[0]!.assign(m);
        second[0]!.assign(v);
        // lr * mHat / (sqrt(vHat) + eps), with the bias corrections as one step scalar each.
        const mHatScale = -lr / (1 - o.beta1 ** updates);
        const vHat = tf.div(v, 1 - o.beta2 ** updates);
        delta = tf.div(tf.mul(mHatScale, m), tf.add(tf.sqrt(vHat), c.eps));
      }
      // AdamW's decoupled decay: W <- W + delta - lr wd W.
      if (o.kind === 'adamw' && o.weightDecay > 0) delta = tf.sub(delta, tf.mul(lr * o.weightDecay, flat(params)));
      const parts = sizes.length === 1 ? [delta] : tf.split(delta, sizes);
      params.forEach((w, i) => w.assign(tf.add(w, tf.reshape(parts[i]!, w.shape))));
      return tf.sum(tf.square(delta));
    });
    const value = sq.dataSync()[0]!;
    sq.dispose();
    return value;
  };

  const slots = [...first, ...second];
  return {
    apply,
    get updates() {
      return updates;
    },
    state: () => ({ updates, slots }),
    load: (n, values) => {
      // A checkpoint of before the slots were flat holds one per parameter per slot: concatenated.
      const perParam = slots.length * params.length;
      if (values.length !== slots.length && !(params.length > 1 && values.length === perParam)) {
        throw new Error(`checkpoint has ${values.length} optimizer slots, expected ${slots.length}${params.length > 1 ? ` (or ${perParam}, one per parameter)` : ''}`);
      }
      const flatValues =
        values.length === slots.length
          ? values
          : slots.map((_, k) => {
              const out = new Float32Array(total);
              let off = 0;
              for (let i = 0; i < params.length; i++) {
                out.set(values[k * params.length + i]!, off);
                off += sizes[i]!;
              }
              return out;
            });
      updates = n;
      slots.forEach((s, i) => tf.tidy(() => s.assign(tf.tensor(flatValues[i]!, s.shape))));
    },
    dispose: () => tf.dispose([...slots, ...Object.values(constants)]),
  };
}
