// pnpm bench:peers — the reference MLP training step in grokstream and in its peers, side by side
// in one run (issue 10). Needs no CI; run it by hand on a quiet machine.
//   grokstream: the trainer's own optimisation step as the loop takes it (update.ts: StepEngine:
//               forward, mean cross-entropy, gradients, AdamW, Σ‖g‖², the weights back in the
//               model's variables), each in its own process, reading the loss back every step:
//               native as runs take it (one TensorFlow graph a step, graph/graph-engine.ts), native
//               op by op (run.graph_step: off), and wasm;
//   PyTorch:    the same step, CPU, 1 and 2 threads;
//   TensorFlow: the same step as a tf.function (Python).
// The step: (a + b) mod 59, 1,740 training pairs, full batch, 118-128-59 quadratic MLP without
// bias, AdamW (tests/bench/peers/reference_step.py spells it out). Goal: native within 1.5x of
// the faster peer.
// Interleaved: each round runs every contender once (its own process: 20 warm-up steps, then
// STEPS timed), so a busy spell on this shared machine hits all of them alike; the ratio to the
// fastest peer is the median of the rounds' own ratios (run one after another, 5 rounds each, it
// read 1.21x and 1.55x in two runs here within minutes).
// Besides, not as peers: the step's five matrix products alone in TensorFlow's and PyTorch's
// kernels (reference_step.py --matmuls), so a gap on the step can be told from a gap in the
// matmuls it is made of.
// The Python peers run from a virtual environment under ~/.cache/grokstream/peers-venv
// (GROKSTREAM_PEERS_VENV), created on first use with torch and tensorflow-cpu from PyPI (~1.5 GB;
// PyPI's torch wheel is the CUDA build, it runs on the CPU as well).
// Writes bench-results/peers.json.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { report, type Figure } from './report.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const STEPS = Number(process.env.BENCH_STEPS ?? 100);
const ROUNDS = 5;
const progress = (msg: string) => process.stderr.write(`bench:peers: ${msg}\n`);

interface Timing {
  who: string;
  ms: number;
  rounds: number[];
  version?: string;
}

if (process.env.BENCH_PEERS_ROLE === 'grokstream') {
  // Child: one backend's reference step.
  const { chooseBackend, resolveConfig, tf } = await import('@grokstream/trainer');
  const { buildModel, buildOptimizer, buildTask } = await import('../../services/trainer/src/build.ts');
  const { optimizer } = await import('../../services/trainer/src/optim/optimizer.ts');
  const { BatchSource } = await import('../../services/trainer/src/batches.ts');
  const { Rng } = await import('../../services/trainer/src/random.ts');
  const { eagerEngine } = await import('../../services/trainer/src/update.ts');
  const { graphEngine } = await import('../../services/trainer/src/graph/graph-engine.ts');
  // tensorflow: the step as runs take it on native (one graph, run.graph_step auto);
  // tensorflow-eager: op by op (run.graph_step: off); wasm: op by op.
  const mode = process.env.BENCH_BACKEND as 'tensorflow' | 'tensorflow-eager' | 'wasm';
  const wanted = mode === 'wasm' ? 'wasm' : 'tensorflow';
  const choice = await chooseBackend(wanted);
  if (choice.name !== wanted) throw new Error(`backend ${wanted} did not load: ${choice.skipped.map((s) => s.reason).join('; ')}`);
  const cfg = resolveConfig(
    {
      run: { name: 'peers', steps: 1000, seed: 0, backend: choice.name },
      task: { kind: 'modular', op: 'add', p: 59, train_fraction: 0.5 },
      model: { kind: 'mlp', hidden: [128], activation: 'quadratic', bias: false },
      optimizer: { kind: 'adamw', lr: 3e-3, betas: [0.9, 0.98], weight_decay: 1 },
    },
    [],
    'peers',
  );
  const task = buildTask(cfg);
  const model = buildModel(cfg, task);
  const options = buildOptimizer(cfg).optimizer;
  const opt = optimizer(model.params, options);
  // The loop's own engine (update.ts: StepEngine), with what the loop gets back: the weights in
  // the model's variables, the loss read back.
  const { mlpOptionsOf } = await import('../../services/trainer/src/build.ts');
  const engine = mode === 'tensorflow' ? graphEngine(model, mlpOptionsOf(cfg, task)!, options, opt) : eagerEngine(model, task, opt);
  const batches = new BatchSource(task, new Rng(0), 'full');
  let n = 0;
  const step = () => {
    const batch = batches.next(++n);
    const u = engine.step(batch, 3e-3, () => false)!;
    // Read back, as a run does: the loss (engines that measure the step have it as a number).
    if (u.measured === undefined) u.loss.dataSync();
    u.dispose();
    batch.release();
  };
  for (let i = 0; i < 20; i++) step();
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) step();
  console.log(JSON.stringify({ ms: (performance.now() - t0) / STEPS, tfjs: tf.version.tfjs }));
  process.exit(0);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One timed run of a contender: ms per step, or why it failed. */
type Once = { ms: number; version: string } | string;

function grokstream(backend: 'tensorflow' | 'tensorflow-eager' | 'wasm'): Once {
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!], {
    env: { ...process.env, BENCH_PEERS_ROLE: 'grokstream', BENCH_BACKEND: backend, TF_CPP_MIN_LOG_LEVEL: '3' },
    encoding: 'utf8',
    timeout: 10 * 60_000,
  });
  if (r.status !== 0) return `grokstream on ${backend} failed: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' / ')}`;
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ms: number; tfjs: string };
  return { ms: out.ms, version: backend === 'tensorflow' ? 'one graph a step (graph addon)' : `tfjs ${out.tfjs}, op by op` };
}

function venv(): string {
  const dir = process.env.GROKSTREAM_PEERS_VENV ?? join(homedir(), '.cache', 'grokstream', 'peers-venv');
  const python = join(dir, 'bin', 'python');
  const ok = () => existsSync(python) && spawnSync(python, ['-c', 'import torch, tensorflow'], { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } }).status === 0;
  if (ok()) return python;
  progress(`creating the peers' Python environment in ${dir} (torch, tensorflow-cpu from PyPI; ~1.5 GB, a few minutes)`);
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { stdio: 'inherit', timeout: 30 * 60_000 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}); set GROKSTREAM_PEERS_VENV to an environment with torch and tensorflow to skip this`);
  };
  if (!existsSync(python)) run('python3', ['-m', 'venv', dir]);
  run(python, ['-m', 'pip', 'install', '--progress-bar', 'off', 'torch', 'tensorflow-cpu==2.21.0', 'numpy']);
  if (!ok()) throw new Error(`${python} still cannot import torch and tensorflow`);
  return python;
}

function peer(python: string, framework: 'torch' | 'tf', threads?: number, matmuls = false): Once {
  const label = framework === 'torch' ? `PyTorch CPU, ${threads} thread${threads === 1 ? '' : 's'}` : 'TensorFlow tf.function';
  const args = [join(ROOT, 'tests', 'bench', 'peers', 'reference_step.py'), '--framework', framework, '--steps', String(STEPS), '--rounds', '1'];
  if (threads) args.push('--threads', String(threads));
  if (matmuls) args.push('--matmuls');
  const r = spawnSync(python, args, { encoding: 'utf8', timeout: 10 * 60_000, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
  if (r.status !== 0) return `${label}${matmuls ? ' (matmuls)' : ''} failed: ${(r.stderr || String(r.error)).trim().split('\n').slice(-3).join(' / ')}`;
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ms_per_step?: number; ms_per_call?: number; version?: string };
  return { ms: (matmuls ? out.ms_per_call : out.ms_per_step)!, version: matmuls ? `${framework}: the step's five matrix products alone, one call` : `${framework} ${out.version}` };
}

const python = venv();
const contenders: Array<{ who: string; once: () => Once }> = [
  { who: 'grokstream native', once: () => grokstream('tensorflow') },
  { who: 'grokstream native, op by op', once: () => grokstream('tensorflow-eager') },
  { who: 'grokstream wasm', once: () => grokstream('wasm') },
  { who: 'PyTorch CPU, 1 thread', once: () => peer(python, 'torch', 1) },
  { who: 'PyTorch CPU, 2 threads', once: () => peer(python, 'torch', 2) },
  { who: 'TensorFlow tf.function', once: () => peer(python, 'tf') },
  // Not peers: the step's five matrix products alone in each framework's kernels, to tell a gap
  // in the step from a gap in the matmuls it is made of.
  { who: 'kernels: TensorFlow, the five matmuls', once: () => peer(python, 'tf', undefined, true) },
  { who: 'kernels: PyTorch 2 threads, the five matmuls', once: () => peer(python, 'torch', 2, true) },
];
const failures: string[] = [];
const runs = new Map<string, Timing>();
for (let round = 0; round < ROUNDS; round++) {
  progress(`round ${round + 1}/${ROUNDS}: each contender ${STEPS} steps, one after another`);
  for (const c of contenders) {
    if (failures.some((f) => f.startsWith(c.who))) continue;
    const r = c.once();
    if (typeof r === 'string') {
      failures.push(`${c.who}: ${r}`);
      continue;
    }
    const t = runs.get(c.who) ?? { who: c.who, ms: 0, rounds: [], version: r.version };
    t.rounds.push(r.ms);
    t.ms = median(t.rounds);
    runs.set(c.who, t);
  }
}
for (const f of failures) progress(f);
const timings = [...runs.values()];
const figures: Figure[] = timings.map((t) => ({ name: `${t.who}: ms per step`, value: t.ms, unit: 'ms', note: `median of ${t.rounds.length} rounds x ${STEPS}; ${t.version}` }));
const peers = timings.filter((t) => !t.who.startsWith('grokstream') && !t.who.startsWith('kernels:'));
const native = timings.find((t) => t.who === 'grokstream native');
if (peers.length > 0) {
  const fastest = peers.reduce((a, b) => (a.ms <= b.ms ? a : b));
  for (const t of timings.filter((x) => x.who.startsWith('grokstream'))) {
    // Each round's own ratio to that round's fastest peer; the median of those.
    const ratios = t.rounds.map((ms, r) => ms / Math.min(...peers.map((p) => p.rounds[r] ?? Infinity)));
    figures.push({
      name: `${t.who} / fastest peer`,
      value: median(ratios),
      unit: 'x',
      note: `median of the rounds' ratios (${ratios.map((x) => x.toFixed(2)).join(', ')}); fastest peer overall: ${fastest.who}`,
      ...(t === native ? { goal: { atMost: 1.5 }, before: { value: 9 / 3.9, source: 'issue 10: ~9 ms native vs tf.function ~3.9 ms' } } : {}),
    });
  }
}
// Where the gap is: each round's own ratios, medians over rounds.
const roundRatio = (a: Timing | undefined, b: Timing | undefined) =>
  a && b ? median(a.rounds.map((ms, r) => ms / (b.rounds[r] ?? NaN)).filter((x) => Number.isFinite(x))) : undefined;
const tfMatmuls = runs.get('kernels: TensorFlow, the five matmuls');
const torchMatmuls = runs.get('kernels: PyTorch 2 threads, the five matmuls');
const kernelRatio = roundRatio(tfMatmuls, torchMatmuls);
if (kernelRatio !== undefined) {
  figures.push({ name: 'TensorFlow / PyTorch 2 threads, the five matmuls alone', value: kernelRatio, unit: 'x', note: "the step's matrix products in each framework's own kernels, median of the rounds' ratios" });
}
const overMatmuls = roundRatio(native, tfMatmuls);
if (overMatmuls !== undefined) {
  figures.push({ name: "grokstream native step / TensorFlow's five matmuls alone", value: overMatmuls, unit: 'x', note: 'what the whole step costs over its matrix products on the same kernels' });
}
report('bench-results/peers.json', 'grokstream vs peers: the reference MLP training step', figures, { steps: STEPS, rounds: ROUNDS, failures, timings });
if (failures.length > 0) process.exit(1);
process.exit(0);
