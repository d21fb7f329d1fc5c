import { tf } from '../tf.ts';

export type Activation = 'relu' | 'quadratic' | 'tanh' | 'linear' | 'gelu';

/** Every activation here has a second derivative in tfjs (Hessian-vector products need it). */
export function activate(kind: Activation, z: tf.Tensor): tf.Tensor {
  switch (kind) {
    case 'relu':
      return tf.relu(z);
    case 'quadratic':
      return tf.square(z);
    case 'tanh':
      return tf.tanh(z);
    case 'linear':
      return z;
    case 'gelu':
      // tanh approximation (Hendrycks & Gimpel); tfjs has no gelu op.
      return tf.tidy(() =>
        tf.mul(tf.mul(0.5, z), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(z, tf.mul(0.044715, tf.pow(z, 3))))))),
      );
  }
}
