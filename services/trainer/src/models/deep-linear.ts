// Deep linear network y = x W_1 W_2 ... W_L (no bias), as in Saxe et al. and S3. Small init γ
// gives the stage-like plateaus; weights start N(0, γ²/fan_in).
import { tf } from '../tf.ts';
import { deepLinearExtras } from '../metrics.ts';
import { gaussianWeight, nextModelId } from './init.ts';
import type { DenseLayer, ForwardTrace, Model } from './model.ts';

export interface DeepLinearOptions {
  inputDim: number;
  outputDim: number;
  depth: number;
  width: number;
  gamma: number;
  seed: number;
}

export function deepLinear(o: DeepLinearOptions): Model {
  const id = nextModelId();
  const dims = [o.inputDim, ...Array.from({ length: o.depth - 1 }, () => o.width), o.outputDim];
  const dense: DenseLayer[] = dims.slice(0, -1).map((d, i) => ({
    name: `W${i + 1}`,
    weight: gaussianWeight(`m${id}.W${i + 1}`, [d, dims[i + 1]!], o.gamma, o.seed + i),
  }));
  const trace = (x: tf.Tensor2D, dz?: tf.Tensor2D[]): ForwardTrace => {
    const records: ForwardTrace['dense'] = [];
    let h = x;
    dense.forEach((l, k) => {
      let z = tf.matMul(h, l.weight) as tf.Tensor2D;
      if (dz) z = tf.add(z, dz[k]!) as tf.Tensor2D;
      records.push({ layer: l, input: h, z, positions: 1 });
      h = z;
    });
    return { output: h, dense: records };
  };
  const params = dense.map((l) => l.weight);
  return {
    description: `deep_linear(${dims.join('-')}, γ=${o.gamma})`,
    params,
    paramNames: dense.map((l) => l.name),
    denseLayers: dense,
    forward: (x) => trace(x).output,
    trace,
    diagnostics: () => deepLinearExtras(dense.map((l) => l.weight as tf.Tensor2D)),
    dispose: () => tf.dispose(params),
  };
}
