// Multi-layer perceptron for modular arithmetic and sparse parity. With input 'embedding' (modular
// tasks), a shared embedding E maps the one-hot a and b, as in Nanda et al.'s MLP variant.
import { tf } from '../tf.ts';
import { activate, type Activation } from './activations.ts';
import { gaussianWeight, nextModelId, zeroBias } from './init.ts';
import type { DenseLayer, ForwardTrace, Model } from './model.ts';
import { denseRecorder } from './dense.ts';

export interface MlpOptions {
  inputDim: number;
  outputDim: number;
  hidden: number[];
  activation: Activation;
  bias: boolean;
  initScale: number;
  /** Shared embedding of width embedDim over the two halves of a [a one-hot | b one-hot] input. */
  embedDim?: number;
  seed: number;
}

export function mlp(o: MlpOptions): Model {
  const id = nextModelId();
  const dense: DenseLayer[] = [];
  let seed = o.seed;
  const layer = (name: string, fanIn: number, fanOut: number, bias: boolean): DenseLayer => {
    const l: DenseLayer = { name, weight: gaussianWeight(`m${id}.${name}.W`, [fanIn, fanOut], o.initScale, seed++) };
    if (bias) l.bias = zeroBias(`m${id}.${name}.b`, fanOut);
    dense.push(l);
    return l;
  };
  const half = o.inputDim / 2;
  if (o.embedDim !== undefined && !Number.isInteger(half)) throw new Error('an embedding needs a [a | b] pair input of even width');
  const embed = o.embedDim !== undefined ? layer('embed', half, o.embedDim, false) : undefined;
  let width = embed ? 2 * o.embedDim! : o.inputDim;
  const hidden = o.hidden.map((h, i) => {
    const l = layer(`hidden${i + 1}`, width, h, o.bias);
    width = h;
    return l;
  });
  const out = layer('out', width, o.outputDim, o.bias);

  const trace = (x: tf.Tensor2D, dz?: tf.Tensor2D[]): ForwardTrace => {
    const { records, apply } = denseRecorder(dz);
    let h: tf.Tensor2D = x;
    if (embed) {
      const n = x.shape[0];
      // Rows [a_0, b_0, a_1, b_1, ...]: the embedding is one layer applied at two positions.
      const pairs = tf.reshape(x, [n * 2, half]) as tf.Tensor2D;
      h = tf.reshape(apply(embed, pairs, 2), [n, 2 * o.embedDim!]) as tf.Tensor2D;
    }
    for (const l of hidden) h = activate(o.activation, apply(l, h, 1)) as tf.Tensor2D;
    return { output: apply(out, h, 1), dense: records };
  };

  const params = dense.flatMap((l) => (l.bias ? [l.weight, l.bias] : [l.weight]));
  const shape = [o.inputDim, ...(o.embedDim ? [`E${o.embedDim}`] : []), ...o.hidden, o.outputDim].join('-');
  return {
    description: `mlp(${shape}, ${o.activation}${o.bias ? '' : ', no bias'})`,
    params,
    paramNames: dense.flatMap((l) => (l.bias ? [`${l.name}.W`, `${l.name}.b`] : [`${l.name}.W`])),
    denseLayers: dense,
    forward: (x) => trace(x).output,
    trace,
    dispose: () => tf.dispose(params),
  };
}
