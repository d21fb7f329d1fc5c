import { describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { useTestBackend } from '../testing-backend.ts';
import { Rng } from '../random.ts';
import { gopGrams } from './gram.ts';
import { gradientNoise } from './noise.ts';
import { explicitGram, explicitPerSampleGradients, relativeError } from './testing-brute-force.ts';
import { testBatch, testLoss, testMlp } from './testing-models.ts';

await useTestBackend();
await tf.ready();

/** Tr(Sigma) and SNR straight from the definitions. */
function bruteForce(g: readonly Float64Array[]) {
  const B = g.length;
  const M = g[0]!.length;
  const mean = new Float64Array(M);
  for (const gi of g) for (let m = 0; m < M; m++) mean[m]! += gi[m]! / B;
  let trace = 0;
  for (const gi of g) for (let m = 0; m < M; m++) trace += (gi[m]! - mean[m]!) ** 2 / B;
  const meanSq = mean.reduce((s, v) => s + v * v, 0);
  return { trace, meanSq, snr: meanSq / trace };
}

describe('gradientNoise', () => {
  it('matches the definition on random vectors', () => {
    const rng = new Rng(1);
    // A common mean plus noise, so SNR is neither tiny nor huge.
    const base = Array.from({ length: 7 }, () => rng.normal());
    const g = Array.from({ length: 5 }, () => Float64Array.from(base, (b) => b + 0.3 * rng.normal()));
    const bf = bruteForce(g);
    const got = gradientNoise(explicitGram(g), 5);
    expect(relativeError(got.trace, bf.trace)).toBeLessThan(1e-12);
    expect(relativeError(got.meanGradNormSq, bf.meanSq)).toBeLessThan(1e-12);
    expect(relativeError(got.snr!, bf.snr)).toBeLessThan(1e-12);
  });

  it('on a tiny model: Gram route vs explicit per-sample gradients, and ||g_bar||^2 vs the mean-loss gradient', () => {
    const model = testMlp({ sizes: [4, 6, 3], activation: 'tanh', bias: true, seed: 2, gain: true });
    const { x, y } = testBatch(8, 4, 3, 'cross-entropy', 2);
    const lossFn = testLoss['cross-entropy'];
    const bf = bruteForce(explicitPerSampleGradients(model, lossFn, x, y));
    const got = gradientNoise(gopGrams(model, lossFn, { x, y }).total, 8);
    expect(relativeError(got.trace, bf.trace)).toBeLessThan(1e-4);
    expect(relativeError(got.snr!, bf.snr)).toBeLessThan(1e-4);
    const full = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.mean(lossFn(model.forward(x), y)) as tf.Scalar, model.params);
      return Object.values(grads).reduce((s, gv) => s + (tf.sum(tf.square(gv)).dataSync()[0] ?? 0), 0);
    });
    expect(relativeError(got.meanGradNormSq, full)).toBeLessThan(1e-4);
    model.dispose();
    tf.dispose([x, y]);
  });

  it('no noise: one sample, or identical samples', () => {
    expect(gradientNoise([4], 1)).toEqual({ trace: 0, meanGradNormSq: 4, snr: null });
    const g = [Float64Array.of(1, 2), Float64Array.of(1, 2), Float64Array.of(1, 2)];
    const n = gradientNoise(explicitGram(g), 3);
    expect(n.trace).toBeCloseTo(0, 14);
    expect(n.meanGradNormSq).toBeCloseTo(5, 14);
  });

  it('pure noise: opposite gradients have zero mean', () => {
    const g = [Float64Array.of(1, -2), Float64Array.of(-1, 2)];
    expect(gradientNoise(explicitGram(g), 2)).toEqual({ trace: 5, meanGradNormSq: 0, snr: 0 });
  });
});
