// Per-step metrics computed on tensors (definitions in docs/architecture.md, "Metrics"). Every
// function returns scalar tensors so the loop can read them all back in one transfer.
import { tf } from './tf.ts';
import type { Model } from './models/model.ts';

/** ‖W‖_F for each parameter, in model.params order. */
export function paramNorms(model: Model): tf.Scalar[] {
  return model.params.map((p) => tf.norm(p) as tf.Scalar);
}

/** √Σ‖W − W₀‖², the distance travelled from initialisation. */
export function initDistance(model: Model, initial: tf.Tensor[]): tf.Scalar {
  return tf.sqrt(tf.addN(model.params.map((p, i) => tf.sum(tf.square(tf.sub(p, initial[i]!)))))) as tf.Scalar;
}

/** Σ‖g‖² over all parameters. */
export function gradNormSq(grads: tf.Tensor[]): tf.Scalar {
  return tf.addN(grads.map((g) => tf.sum(tf.square(g)))) as tf.Scalar;
}

export function accuracy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')) as tf.Scalar;
}

/**
 * Fraction of samples in softmax collapse (Prieto et al. 2025): the float32 normaliser
 * Σ exp(l − max l) rounds to exactly 1, so every non-maximal class underflows and the
 * gradient of the correct class vanishes.
 */
export function softmaxCollapse(logits: tf.Tensor2D): tf.Scalar {
  const shifted = tf.sub(logits, tf.max(logits, 1, true));
  const normaliser = tf.sum(tf.exp(shifted), 1);
  return tf.mean(tf.cast(tf.equal(normaliser, 1), 'float32')) as tf.Scalar;
}

/**
 * Deep linear diagnostics for y = x W₁ ⋯ W_L (W_l of shape [in, out]): Gram norms ‖W_lᵀW_l‖_F,
 * balance differences ‖W_lᵀW_l − W_{l+1}W_{l+1}ᵀ‖_F (zero and conserved under gradient flow
 * from balanced init), and the norm of the end-to-end map ‖W₁⋯W_L‖_F.
 */
export function deepLinearExtras(weights: tf.Tensor2D[]): Record<string, tf.Scalar> {
  const out: Record<string, tf.Scalar> = {};
  weights.forEach((w, l) => {
    out[`gram_norm_${l + 1}`] = tf.norm(tf.matMul(w, w, true, false)) as tf.Scalar;
    const next = weights[l + 1];
    if (next) {
      out[`balance_${l + 1}_${l + 2}`] = tf.norm(
        tf.sub(tf.matMul(w, w, true, false), tf.matMul(next, next, false, true)),
      ) as tf.Scalar;
    }
  });
  out.effective_weight_norm = tf.norm(weights.slice(1).reduce((acc, w) => tf.matMul(acc, w), weights[0]!)) as tf.Scalar;
  return out;
}
