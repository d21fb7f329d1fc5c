// GOP spectrum two ways on a 118-128-59 quadratic MLP (the modular-arithmetic shape, p = 59) at
// B = 64: the Gram matrix from one forward + backward (gram.ts), and the naive way, B
// single-sample backward passes, G = [g_1..g_B] flattened, K = (1/B) G G^T. Prints timings and
// the largest eigenvalue difference. Not a test; run:
//   pnpm exec tsx services/trainer/src/probes/gop-benchmark.ts [cpu|wasm|tensorflow] [B]
import { chooseBackend, tf, type BackendName } from '../tf.ts';
import { gopGrams } from './gram.ts';
import { createProbeState, runProbes } from './index.ts';
import { summarizeGram } from './spectrum.ts';
import { testBatch, testLoss, testMlp } from './testing-models.ts';

const backend = (process.argv[2] ?? 'cpu') as BackendName;
const B = Number(process.argv[3] ?? 64);
const choice = await chooseBackend(backend);
const model = testMlp({ sizes: [118, 128, 59], activation: 'quadratic', bias: true, seed: 1, initScale: 1 });
const { x, y } = testBatch(B, 118, 59, 'cross-entropy', 2);
const lossFn = testLoss['cross-entropy'];

function naiveGram(): Float64Array {
  const k = tf.tidy(() => {
    const rows: tf.Tensor[] = [];
    for (let i = 0; i < B; i++) {
      const xi = tf.slice(x, [i, 0], [1, -1]);
      const yi = tf.slice(y, [i, 0], [1, -1]);
      const { grads } = tf.variableGrads(() => tf.sum(lossFn(model.forward(xi), yi)) as tf.Scalar, model.params);
      rows.push(tf.concat(model.params.map((p) => tf.reshape(grads[p.name]!, [1, -1])), 1));
    }
    const G = tf.concat(rows, 0);
    return tf.div(tf.matMul(G, G, false, true), B);
  });
  const out = Float64Array.from(k.dataSync());
  k.dispose();
  return out;
}

function time<T>(f: () => T, reps: number): { ms: number; value: T } {
  f(); // warm-up (kernel compilation, shape cache)
  const t0 = performance.now();
  let value!: T;
  for (let r = 0; r < reps; r++) value = f();
  return { ms: (performance.now() - t0) / reps, value };
}

const reps = 5;
const gram = time(() => summarizeGram(gopGrams(model, lossFn, { x, y }).total, B), reps);
const naive = time(() => summarizeGram(naiveGram(), B), reps);
const gramOnly = time(() => gopGrams(model, lossFn, { x, y }), reps);
const naiveOnly = time(() => naiveGram(), reps);
const maxDiff = Math.max(...gram.value.top_eigs.map((l, i) => Math.abs(l - naive.value.top_eigs[i]!)));
const maxRel = Math.max(...gram.value.top_eigs.map((l, i) => Math.abs(l - naive.value.top_eigs[i]!) / naive.value.top_eigs[i]!));
console.log(`backend ${choice.name}, ${model.description}, B = ${B}, ${model.params.reduce((n, p) => n + p.size, 0)} params`);
console.log(`Gram route:  ${gram.ms.toFixed(1)} ms per GOP summary (${gramOnly.ms.toFixed(1)} ms for K)`);
console.log(`naive loop:  ${naive.ms.toFixed(1)} ms per GOP summary (${naiveOnly.ms.toFixed(1)} ms for K)`);
console.log(`speed-up:    ${(naive.ms / gram.ms).toFixed(1)}x`);
console.log(`top eigenvalues (Gram):  ${gram.value.top_eigs.map((v) => v.toPrecision(7)).join(' ')}`);
console.log(`top eigenvalues (naive): ${naive.value.top_eigs.map((v) => v.toPrecision(7)).join(' ')}`);
console.log(`largest |difference| over top ${gram.value.top_eigs.length}: ${maxDiff.toExponential(2)} (relative ${maxRel.toExponential(2)}); ranks ${gram.value.numerical_rank} vs ${naive.value.numerical_rank}`);
const state = createProbeState(1);
const full = time(() => runProbes(model, lossFn, { x, y }, state, { hessian: { trace: true, topEig: true, powerIters: 3, trHSigma: true } }), 2);
const firstOrder = time(() => runProbes(model, lossFn, { x, y }, state, {}), reps);
console.log(`runProbes:   ${firstOrder.ms.toFixed(1)} ms (GOP all scopes + noise), ${full.ms.toFixed(0)} ms with Hutchinson + 3 power steps + Tr(H Sigma) (${B + 4} HVPs)`);
model.dispose();
tf.dispose([x, y]);
