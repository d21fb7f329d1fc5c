// What the training loop and the probes need from a model. Models own their tf.Variables.
import type { tf } from '../tf.ts';

/** A dense (matmul) layer: z = a W (+ b), with a of shape [B, in] and W of shape [in, out]. */
export interface DenseLayer {
  name: string;
  weight: tf.Variable;
  bias?: tf.Variable;
}

/**
 * One forward pass that also returns, for every dense layer, its input activations `a` [B, in]
 * and its output pre-activations `z` [B, out]. For a layer applied at T positions (a
 * transformer, a shared embedding), a is [B*T, in] and z [B*T, out], rows sample-major.
 *
 * tfjs takes gradients only with respect to tensors that exist before the taped function runs,
 * so dL/dz comes from additive perturbations: when `dz` is given, dz[l] (shape of layer l's z,
 * zeros in practice) is added to z before the layer's activation, and
 * tf.grads((...dz) => sum of per-sample losses of trace(x, dz).output)(zeros) is exactly the
 * per-sample deltas δ_i = ∂L_i/∂z_i of every dense layer, from one backward pass.
 * Call trace(x) once without dz to learn the shapes.
 */
export interface ForwardTrace {
  output: tf.Tensor2D;
  dense: Array<{ layer: DenseLayer; input: tf.Tensor2D; z: tf.Tensor2D; positions: number }>;
  /**
   * Parameters outside the dense layers that are added, shaped [positions, out], to every sample's
   * rows of one dense layer's output z (a transformer's positional embedding on its token
   * embedding): sample i's gradient of such a parameter is that layer's delta rows of sample i,
   * so the probes take it from the trace instead of a backward pass per sample (probes/deltas.ts).
   */
  addedTo?: Array<{ param: tf.Variable; layer: DenseLayer }>;
}

export interface Model {
  /** Shape in words, e.g. "mlp(118-128-59, quadratic)"; goes into RunStarted.model. */
  readonly description: string;
  /** Every trainable variable, in a fixed order. */
  readonly params: tf.Variable[];
  /** One name per entry of params (used for per-layer norms and GOP scopes). */
  readonly paramNames: string[];
  /** The dense layers, for Gram-matrix GOP summaries; params not covered need the per-sample fallback. */
  readonly denseLayers: DenseLayer[];
  forward(x: tf.Tensor2D): tf.Tensor2D;
  /** forward() that also exposes each dense layer's input and pre-activation (see ForwardTrace). */
  trace(x: tf.Tensor2D, dz?: tf.Tensor2D[]): ForwardTrace;
  /**
   * A capability: diagnostics of this kind of model, as named scalars the loop reports every step
   * in StepMetrics.extra (e.g. a deep linear network's Gram norms and balance). Called inside
   * tf.tidy; absent when the model has none.
   */
  diagnostics?(): Record<string, tf.Scalar>;
  dispose(): void;
}
