import { tf } from '../tf.ts';
import { gelu, tanh } from '../second-order-ops.ts';

export type Activation = 'relu' | 'quadratic' | 'tanh' | 'linear' | 'gelu';

/**
 * Every activation here has a correct second derivative in tfjs (Hessian-vector products need it):
 * tf.tanh's is silently wrong, so tanh and gelu come from second-order-ops.ts.
 */
export function activate(kind: Activation, z: tf.Tensor): tf.Tensor {
  switch (kind) {
    case 'relu':
      return tf.relu(z);
    case 'quadratic':
      return tf.square(z);
    case 'tanh':
      return tanh(z);
    case 'linear':
      return z;
    case 'gelu':
      return gelu(z);
  }
}
