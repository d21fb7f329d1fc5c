// Trainer benchmark, in one run on one backend:
//  1. steps/s on the reference MLP ((a+b) mod 59, 118-128-59 quadratic, full batch) with probes
//     off, with the first-order probes (GOP all scopes + noise + Fourier), and with all probes
//     (+ Hutchinson trace, 3 warm-started power steps, exact Tr(HΣ): B + 4 HVPs), every step;
//  2. the GOP summary at B = 64 from the Gram matrix (one forward + backward) against the naive
//     loop of B per-sample backward passes: time and the largest eigenvalue difference.
//   pnpm bench:trainer            (BENCH_BACKEND=cpu|wasm|tensorflow, BENCH_STEPS=60)
// Writes bench-results/trainer.json.
import { MemoryBus } from '@grokstream/bus';
import { EventCodec } from '@grokstream/schemas';
import { chooseBackend, configJson, resolveConfig, runTraining, type BackendName } from '@grokstream/trainer';
import { tf } from '../../services/trainer/src/tf.ts';
import { gopGrams } from '../../services/trainer/src/probes/gram.ts';
import { summarizeGram } from '../../services/trainer/src/probes/spectrum.ts';
import { testBatch, testLoss, testMlp } from '../../services/trainer/src/probes/testing-models.ts';
import { report, type Figure } from './report.ts';

const backend = (process.env.BENCH_BACKEND ?? 'wasm') as BackendName;
const STEPS = Number(process.env.BENCH_STEPS ?? '60');
if (!Number.isInteger(STEPS) || STEPS < 20) throw new Error(`BENCH_STEPS must be an integer >= 20, got ${process.env.BENCH_STEPS}`);
const OUT = process.env.BENCH_OUT ?? 'bench-results/trainer.json';
const progress = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
const choice = await chooseBackend(backend);
const figures: Figure[] = [];

// --- 1. probe overhead in the training loop ---
const reference = {
  run: { name: 'bench', steps: STEPS, seed: 0, backend: choice.name, checkpoint: { dir: '.grokstream/bench-checkpoints' } },
  task: { kind: 'modular', op: 'add', p: 59, train_fraction: 0.5 },
  model: { kind: 'mlp', hidden: [128], activation: 'quadratic', bias: false },
  optimizer: { kind: 'adamw', lr: 3e-3, betas: [0.9, 0.98], weight_decay: 1 },
};
const settings: Record<string, string[]> = {
  off: ['probes.every=0'],
  'first-order': ['probes.every=1', 'probes.fourier=true'],
  all: [
    'probes.every=1',
    'probes.fourier=true',
    'probes.hessian.trace=true',
    'probes.hessian.top_eig=true',
    'probes.hessian.tr_h_sigma=true',
  ],
};
const rates: Record<string, number[]> = { off: [], 'first-order': [], all: [] };
// Interleaved rounds; the rate is taken over the second half of each run (warm kernels).
for (let round = 0; round < 2; round++) {
  for (const [name, overrides] of Object.entries(settings)) {
    progress(`loop round ${round + 1}/2: probes ${name}, ${STEPS} steps`);
    const cfg = resolveConfig(reference, overrides, 'bench');
    let tHalf = 0;
    let tEnd = 0;
    await runTraining(cfg, {
      bus: new MemoryBus(),
      codec: EventCodec.load(),
      configJson: configJson(cfg),
      log: () => {},
      onStep: (m) => {
        if (m.step === Math.floor(STEPS / 2)) tHalf = performance.now();
        if (m.step === STEPS) tEnd = performance.now();
      },
    });
    rates[name]!.push(((STEPS - Math.floor(STEPS / 2)) * 1000) / (tEnd - tHalf));
  }
}
const best = (xs: number[]) => Math.max(...xs);
figures.push({ name: 'steps/s, probes off', value: best(rates.off!), unit: 'steps/s', note: `${choice.name}, best of 2` });
figures.push({ name: 'steps/s, GOP + noise + Fourier', value: best(rates['first-order']!), unit: 'steps/s' });
figures.push({ name: 'steps/s, all probes (+ B+4 HVPs)', value: best(rates.all!), unit: 'steps/s' });
figures.push({ name: 'overhead, first-order probes', value: best(rates.off!) / best(rates['first-order']!), unit: 'x', note: 'time per step vs probes off' });
figures.push({ name: 'overhead, all probes', value: best(rates.off!) / best(rates.all!), unit: 'x', note: 'Cockpit: 1.5x economy, 21x full' });

// --- 2. Gram-matrix GOP vs naive per-sample gradients at B = 64 ---
const B = 64;
progress(`GOP at B = ${B}: Gram route vs naive per-sample loop`);
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
  f(); // warm-up
  const t0 = performance.now();
  let value!: T;
  for (let r = 0; r < reps; r++) value = f();
  return { ms: (performance.now() - t0) / reps, value };
}

const gram = time(() => summarizeGram(gopGrams(model, lossFn, { x, y }).total, B), 5);
const naive = time(() => summarizeGram(naiveGram(), B), 5);
const diffs = gram.value.top_eigs.map((l, i) => Math.abs(l - naive.value.top_eigs[i]!));
figures.push({ name: 'GOP summary, Gram route (B=64)', value: gram.ms, unit: 'ms' });
figures.push({ name: 'GOP summary, per-sample loop (B=64)', value: naive.ms, unit: 'ms' });
figures.push({ name: 'GOP speed-up, Gram vs per-sample', value: naive.ms / gram.ms, unit: 'x' });
figures.push({ name: 'largest top-8 eigenvalue difference', value: Math.max(...diffs), unit: 'abs', note: `top eigenvalue ${gram.value.top_eigs[0]!.toPrecision(6)}` });
model.dispose();
tf.dispose([x, y]);

report(OUT, 'grokstream trainer benchmark', figures, { backend: choice.name, steps: STEPS, rates, probeBatch: 64, node: process.version });
process.exit(0);
