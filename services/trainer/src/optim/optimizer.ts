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

export function optimizer(params: tf.Variable[], o: OptimizerOptions): Optimizer {
  const id = instances++; // variable names are global in tfjs
  // tf.variable keeps its initial tensor alive unless created inside tidy.
  const slot = (tag: string) => params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false, `opt${id}.${p.name}.${tag}`)));
  const first = o.kind === 'sgd' ? (o.momentum > 0 ? slot('m') : []) : slot('m');
  const second = o.kind === 'sgd' ? [] : slot('v');
  let updates = 0;

  const apply = (grads: tf.Tensor[], lr: number): number => {
    updates++;
    const sq = tf.tidy(() => {
      const norms: tf.Scalar[] = [];
      params.forEach((w, i) => {
        let g = grads[i]!;
        if (o.kind !== 'adamw' && o.weightDecay > 0) g = tf.add(g, tf.mul(o.weightDecay, w));
        let delta: tf.Tensor;
        if (o.kind === 'sgd') {
          if (o.momentum > 0) {
            const m = tf.add(tf.mul(o.momentum, first[i]!), g);
            first[i]!.assign(m);
            delta = tf.mul(-lr, o.nesterov ? tf.add(g, tf.mul(o.momentum, m)) : m);
          } else {
            delta = tf.mul(-lr, g);
          }
        } else {
          const m = tf.add(tf.mul(o.beta1, first[i]!), tf.mul(1 - o.beta1, g));
          const v = tf.add(tf.mul(o.beta2, second[i]!), tf.mul(1 - o.beta2, tf.square(g)));
          first[i]!.assign(m);
          second[i]!.assign(v);
          const mHat = tf.div(m, 1 - o.beta1 ** updates);
          const vHat = tf.div(v, 1 - o.beta2 ** updates);
          delta = tf.mul(-lr, tf.div(mHat, tf.add(tf.sqrt(vHat), o.eps)));
          if (o.kind === 'adamw' && o.weightDecay > 0) delta = tf.sub(delta, tf.mul(lr * o.weightDecay, w));
        }
        w.assign(tf.add(w, delta));
        norms.push(tf.sum(tf.square(delta)));
      });
      return tf.addN(norms);
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
      if (values.length !== slots.length) throw new Error(`checkpoint has ${values.length} optimizer slots, expected ${slots.length}`);
      updates = n;
      slots.forEach((s, i) => tf.tidy(() => s.assign(tf.tensor(values[i]!, s.shape))));
    },
    dispose: () => tf.dispose(slots),
  };
}
