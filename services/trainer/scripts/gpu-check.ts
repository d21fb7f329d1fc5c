// pnpm gpu:check — the GPU path, on a machine with an NVIDIA GPU and its driver:
//   1. pnpm setup:native --gpu: the native backend from PyPI's tensorflow wheel (its CUDA kernels
//      are for sm_60/70/80/89 plus PTX for compute_90) with the nvidia-*-cu12 runtime wheels
//      unpacked beside it, where the libraries look for them ($ORIGIN/../nvidia/<component>/lib);
//      the driver is the host's;
//   2. the devices: nvidia-smi's list, and whether TensorFlow placed the work on a GPU;
//   3. the grokking example on it: steps/s, and memorization and grokking steps;
//   4. the Hessian-vector product the curvature probes are built on, on the GPU against the
//      pure-JS cpu backend, for the same model, batch and vector: the largest relative error.
// Writes bench-results/gpu-check.json and prints a table. It needs PyPI (the wheels) the first time.
// --cpu runs the same checks with native TensorFlow on the CPU (no CUDA wheels, no GPU required),
// which is how this script is exercised on machines without a GPU.
// --no-build skips step 1, for a machine where the backend is already in place (one that cannot
// reach PyPI, say); --cli PATH runs that grokstream entry point instead of services/cli/bin/grokstream.js;
// --out DIR writes the JSON there instead of bench-results/.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chooseBackend, tf } from '../src/tf.ts';
import { hessianVectorProduct } from '../src/probes/hessian.ts';
import { testBatch, testLoss, testMlp } from '../src/probes/testing-models.ts';

const { values: flags } = parseArgs({
  options: { cpu: { type: 'boolean' }, 'no-build': { type: 'boolean' }, cli: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
if (flags.help) {
  console.log('pnpm gpu:check [--cpu] [--no-build] [--cli PATH] [--out DIR]: builds the native backend with CUDA, lists the GPUs, trains the grokking example and checks the HVP against the cpu backend (see the top of this script)');
  process.exit(0);
}
// With --cli (a grokstream built elsewhere) the checkout is the current directory.
const ROOT = flags.cli ? process.cwd() : join(import.meta.dirname, '..', '..', '..');
const cpuOnly = flags.cpu === true;
const cli = flags.cli ?? 'services/cli/bin/grokstream.js';
const outDir = flags.out ?? join(ROOT, 'bench-results');
const out: Record<string, unknown> = { at: new Date().toISOString() };
const fail = (message: string): never => {
  console.error(`gpu:check: ${message}`);
  process.exit(1);
};

function step(what: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  console.log(`gpu:check: ${what}`);
  const res = spawnSync(command, args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 30 * 60_000 });
  if (res.status !== 0) fail(`${what} failed (exit ${res.status}):\n${`${res.stdout}\n${res.stderr}`.trim().split('\n').slice(-30).join('\n')}`);
  return `${res.stdout}\n${res.stderr}`;
}

out.mode = cpuOnly ? 'native TensorFlow on the CPU (--cpu)' : 'GPU';
if (!flags['no-build']) step(
  `building the native backend${cpuOnly ? '' : ' with the CUDA runtime (pnpm setup:native --gpu)'}`,
  process.execPath,
  ['--import', 'tsx', 'services/trainer/scripts/setup-native.ts', ...(cpuOnly ? [] : ['--gpu'])],
);

const smi = spawnSync('nvidia-smi', ['--query-gpu=name,compute_cap,memory.total,driver_version', '--format=csv,noheader'], { encoding: 'utf8' });
out.devices = smi.status === 0 ? smi.stdout.trim().split('\n') : [];
if (smi.status !== 0 && !cpuOnly) fail('nvidia-smi does not answer: no NVIDIA driver on this machine (--cpu checks the native backend on the CPU)');

const run = step(
  'training the grokking example on the native backend',
  process.execPath,
  [cli, 'run', 'examples/modular-addition-grokking.yaml', '--no-store', '--no-detect', 'run.log_every=50', 'run.backend=tensorflow', 'run.checkpoint.dir=.grokstream/gpu-check'],
  { ...process.env, GROKSTREAM_KAFKA_BROKERS: '', TF_CPP_MIN_LOG_LEVEL: '1' },
);
const rates = [...run.matchAll(/([\d.]+) steps\/s/g)].map((m) => Number(m[1]));
out.example = {
  steps_per_s: rates.at(-1) ?? null,
  memorized: Number(/memorized \(train acc ≥ 0\.99\): step (\d+)/.exec(run)?.[1]) || null,
  grokked: Number(/grokked \(test acc ≥ 0\.95 after memorizing\): step (\d+)/.exec(run)?.[1]) || null,
  tensorflow_log: run.split('\n').filter((l) => /gpu|GPU|device|cuda|CUDA/.test(l)).slice(0, 20),
};

// The HVP on both backends, for the same model, batch and vector.
async function hvpOn(backend: 'tensorflow' | 'cpu'): Promise<{ hv: Float32Array; gpu: boolean }> {
  // The native module registers the 'tensorflow' backend as it loads (chooseBackend does this).
  if (backend === 'tensorflow' && (await chooseBackend('tensorflow')).name !== 'tensorflow') fail('the native backend does not load');
  await tf.setBackend(backend);
  await tf.ready();
  const model = testMlp({ sizes: [16, 64, 8], activation: 'tanh', bias: true, seed: 7 });
  const data = testBatch(64, 16, 8, 'cross-entropy', 11);
  const v = model.params.map((p, i) => tf.randomNormal(p.shape, 0, 1, 'float32', 100 + i));
  const hv = hessianVectorProduct(model, testLoss['cross-entropy'], { x: data.x, y: data.y }, v);
  const flat = new Float32Array(hv.reduce((n, t) => n + t.size, 0));
  let at = 0;
  for (const t of hv) {
    flat.set(t.dataSync() as Float32Array, at);
    at += t.size;
  }
  const gpu = Boolean((tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice);
  tf.dispose([...hv, ...v, data.x, data.y]);
  model.dispose();
  return { hv: flat, gpu };
}

const native = await hvpOn('tensorflow');
const cpu = await hvpOn('cpu');
const scale = Math.max(...cpu.hv.map(Math.abs));
const maxRel = Math.max(...native.hv.map((x, i) => Math.abs(x - cpu.hv[i]!) / scale));
out.hvp = { on_gpu: native.gpu, values: cpu.hv.length, max_abs_error_over_max_abs: maxRel, agrees: maxRel < 1e-3 };

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'gpu-check.json'), `${JSON.stringify(out, null, 2)}\n`);
const ex = out.example as { steps_per_s: number | null; memorized: number | null; grokked: number | null };
console.table([
  { check: 'devices', result: (out.devices as string[]).join('; ') },
  { check: 'TensorFlow placed work on a GPU', result: String(native.gpu) },
  { check: 'grokking example, steps/s', result: String(ex.steps_per_s) },
  { check: 'memorized / grokked at step', result: `${ex.memorized} / ${ex.grokked}` },
  { check: `HVP ${cpuOnly ? 'native CPU' : 'GPU'} vs the cpu backend, max |Δ| / max |Hv|`, result: maxRel.toExponential(2) },
]);
if ((!native.gpu && !cpuOnly) || maxRel >= 1e-3) fail('the GPU path does not hold (see the table and bench-results/gpu-check.json)');
