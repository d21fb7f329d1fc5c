// A 1–2 layer attention-only-plus-MLP transformer of the Nanda et al. (2023) shape for modular
// arithmetic: tokens a, b, '=' embedded with learned position embeddings, causal attention, an
// MLP per layer, no layer norm by default, logits read at the '=' position.
import { tf } from '../tf.ts';
import { activate, type Activation } from './activations.ts';
import { softmax } from '../second-order-ops.ts';
import { gaussianWeight, nextModelId, tfSeed, zeroBias } from './init.ts';
import type { DenseLayer, ForwardTrace, Model } from './model.ts';
import { denseRecorder } from './dense.ts';

export interface TransformerOptions {
  /** Vocabulary: p residues plus '='. */
  vocab: number;
  seqLen: number;
  outputDim: number;
  nLayers: number;
  dModel: number;
  nHeads: number;
  dMlp: number;
  activation: Activation;
  layerNorm: boolean;
  initScale: number;
  seed: number;
}

interface Block {
  q: DenseLayer;
  k: DenseLayer;
  v: DenseLayer;
  o: DenseLayer;
  mlpIn: DenseLayer;
  mlpOut: DenseLayer;
}

export function transformer(o: TransformerOptions): Model {
  if (o.dModel % o.nHeads !== 0) throw new Error(`d_model ${o.dModel} is not divisible by n_heads ${o.nHeads}`);
  const id = nextModelId();
  const dHead = o.dModel / o.nHeads;
  const T = o.seqLen;
  let seed = o.seed;
  const dense: DenseLayer[] = [];
  const layer = (name: string, fanIn: number, fanOut: number, bias = false): DenseLayer => {
    const l: DenseLayer = { name, weight: gaussianWeight(`m${id}.${name}.W`, [fanIn, fanOut], o.initScale, seed++) };
    if (bias) l.bias = zeroBias(`m${id}.${name}.b`, fanOut);
    dense.push(l);
    return l;
  };
  const embed = layer('embed', o.vocab, o.dModel);
  const posSeed = seed++;
  const pos = tf.tidy(() => tf.variable(tf.randomNormal([T, o.dModel], 0, o.initScale / Math.sqrt(o.dModel), 'float32', tfSeed(posSeed)), true, `m${id}.pos`));
  const blocks: Block[] = Array.from({ length: o.nLayers }, (_, i) => ({
    q: layer(`l${i}.q`, o.dModel, o.dModel),
    k: layer(`l${i}.k`, o.dModel, o.dModel),
    v: layer(`l${i}.v`, o.dModel, o.dModel),
    o: layer(`l${i}.o`, o.dModel, o.dModel),
    mlpIn: layer(`l${i}.mlp_in`, o.dModel, o.dMlp, true),
    mlpOut: layer(`l${i}.mlp_out`, o.dMlp, o.dModel, true),
  }));
  const unembed = layer('unembed', o.dModel, o.outputDim);
  // Causal mask: position t sees positions ≤ t.
  const mask = tf.tensor2d(
    Array.from({ length: T * T }, (_, i) => (i % T <= Math.floor(i / T) ? 0 : -1e9)),
    [T, T],
  );
  const norm = (x: tf.Tensor2D) => {
    if (!o.layerNorm) return x;
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))) as tf.Tensor2D;
  };

  const trace = (x: tf.Tensor2D, dz?: tf.Tensor2D[]): ForwardTrace => {
    const { records, apply } = denseRecorder(dz);
    const n = x.shape[0];
    const tokens = tf.reshape(x, [n * T, o.vocab]) as tf.Tensor2D;
    // resid: [n*T, d], rows sample-major. The positions are broadcast over the samples: tf.tile's
    // gradient in tfjs 4.22 is a slice and an add per repetition (2n ops a backward pass, ~40% of a
    // full-batch step here), a broadcast add's is one sum.
    let resid = tf.reshape(tf.add(tf.reshape(apply(embed, tokens, T), [n, T, o.dModel]), pos), [n * T, o.dModel]) as tf.Tensor2D;
    const heads = (z: tf.Tensor2D) => tf.transpose(tf.reshape(z, [n, T, o.nHeads, dHead]), [0, 2, 1, 3]);
    for (const b of blocks) {
      const h = norm(resid);
      const q = heads(apply(b.q, h, T));
      const kk = heads(apply(b.k, h, T));
      const v = heads(apply(b.v, h, T));
      const scores = tf.add(tf.div(tf.matMul(q, kk, false, true), Math.sqrt(dHead)), mask);
      // softmax from second-order-ops: tf.softmax's second derivative is wrong in tfjs 4.22.
      const mixed = tf.matMul(softmax(scores), v); // [n, H, T, dHead]
      const merged = tf.reshape(tf.transpose(mixed, [0, 2, 1, 3]), [n * T, o.dModel]) as tf.Tensor2D;
      resid = tf.add(resid, apply(b.o, merged, T)) as tf.Tensor2D;
      const hidden = activate(o.activation, apply(b.mlpIn, norm(resid), T)) as tf.Tensor2D;
      resid = tf.add(resid, apply(b.mlpOut, hidden, T)) as tf.Tensor2D;
    }
    // Logits at the last ('=') position only.
    const last = tf.reshape(tf.slice(tf.reshape(resid, [n, T, o.dModel]), [0, T - 1, 0], [n, 1, o.dModel]), [n, o.dModel]) as tf.Tensor2D;
    return { output: apply(unembed, norm(last), 1), dense: records, addedTo: [{ param: pos, layer: embed }] };
  };

  const params = [...dense.flatMap((l) => (l.bias ? [l.weight, l.bias] : [l.weight])), pos];
  return {
    description: `transformer(${o.nLayers} layer${o.nLayers > 1 ? 's' : ''}, d_model ${o.dModel}, ${o.nHeads} heads, d_mlp ${o.dMlp}, ${o.activation}${o.layerNorm ? ', layer norm' : ''})`,
    params,
    paramNames: [...dense.flatMap((l) => (l.bias ? [`${l.name}.W`, `${l.name}.b`] : [`${l.name}.W`])), 'pos'],
    denseLayers: dense,
    forward: (x) => trace(x).output,
    trace,
    dispose: () => tf.dispose([...params, mask]),
  };
}
