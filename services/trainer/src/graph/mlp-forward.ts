// The MLP of models/mlp.ts as TensorFlow graph operations (tf-graph.ts): its parameters' shapes and
// its forward pass, shared by the step's graph (mlp-step.ts), its measurements (mlp-measures.ts),
// the probe graph (mlp-probes.ts) and the Hessian-vector product's graph (mlp-hessian.ts).
import type { Activation } from '../models/activations.ts';
import type { MlpOptions } from '../models/mlp.ts';
import type { TfGraph } from './tf-graph.ts';

export type MlpShape = Pick<MlpOptions, 'inputDim' | 'outputDim' | 'hidden' | 'activation' | 'bias' | 'embedDim'>;

/** The activation of models/activations.ts on `z`, as graph operations. */
export function activateIn(g: TfGraph, activation: Activation, z: string): string {
  switch (activation) {
    case 'relu':
      return g.op('Relu', [z]);
    case 'quadratic':
      return g.op('Square', [z]);
    case 'linear':
      return z;
    case 'tanh':
      return g.op('Tanh', [z]);
    default:
      throw new Error(`activation ${activation} has no graph form`);
  }
}

/** One application of a dense layer in a graph forward pass: its input, pre-activation and rows per sample. */
export interface DenseUse {
  input: string;
  z: string;
  rows: number;
  bias: boolean;
}

/**
 * The MLP's forward pass (models/mlp.ts) as graph operations on x, with its parameters in
 * mlpParamShapes order; returns the logits. `bias` adds the bias by BiasAdd (default) or by a
 * broadcast AddV2 (differentiable twice); `activate` replaces activateIn; `onDense` sees every
 * dense application, the embedding's included (two rows a sample).
 */
export function mlpForwardIn(
  g: TfGraph,
  s: MlpShape,
  x: string,
  params: string[],
  o: { bias?: 'BiasAdd' | 'AddV2'; activate?: (z: string) => string; onDense?: (use: DenseUse) => void } = {},
): string {
  const activate = o.activate ?? ((z: string) => activateIn(g, s.activation, z));
  let p = 0;
  const dense = (h: string) => {
    let z = g.op('MatMul', [h, params[p++]!]);
    if (s.bias) z = g.op(o.bias ?? 'BiasAdd', [z, params[p++]!]);
    o.onDense?.({ input: h, z, rows: 1, bias: s.bias });
    return z;
  };
  let h = x;
  if (s.embedDim !== undefined) {
    // Rows [a_0, b_0, a_1, b_1, ...]: one embedding applied at two positions, two rows a sample.
    const pairs = g.op('Reshape', [x, g.ints([-1, s.inputDim / 2])]);
    const e = g.op('MatMul', [pairs, params[p++]!]);
    o.onDense?.({ input: pairs, z: e, rows: 2, bias: false });
    h = g.op('Reshape', [e, g.ints([-1, 2 * s.embedDim])]);
  }
  for (let i = 0; i < s.hidden.length; i++) h = activate(dense(h));
  return dense(h);
}

/** The parameters' shapes, in models/mlp.ts's order (embed, hidden layers, out; W then b). */
export function mlpParamShapes(s: MlpShape): number[][] {
  const shapes: number[][] = [];
  let width = s.inputDim;
  if (s.embedDim !== undefined) {
    shapes.push([s.inputDim / 2, s.embedDim]);
    width = 2 * s.embedDim;
  }
  for (const h of [...s.hidden, s.outputDim]) {
    shapes.push([width, h]);
    if (s.bias) shapes.push([h]);
    width = h;
  }
  return shapes;
}
