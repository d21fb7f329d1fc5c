// pnpm bench:sweeps — runs per hour of a sweep on these cores, with 1 and 2 workers, embedded
// (`grokstream sweep --workers N`: trainer processes on one in-process bus, chdb) and on Kafka
// (the local stack; CI starts it before the benchmarks), and the steps the detector's early stops
// saved. On Kafka, as deployed: `grokstream detect` and `grokstream ingest` (into the stack's ClickHouse),
// N `grokstream worker` processes in one consumer group, and `grokstream sweep --kafka`, which
// publishes the points and follows them in ClickHouse to the end. The same grid each time (run
// again with --rerun all): the grokking example, 6 points. Writes bench-results/sweeps.json.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { report, type Figure } from './report.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'services', 'cli', 'bin', 'grokstream.js');
const BROKERS = process.env.GROKSTREAM_KAFKA_BROKERS || '127.0.0.1:19092';
const CLICKHOUSE = process.env.GROKSTREAM_CLICKHOUSE_URL || 'http://127.0.0.1:18123';
const STEPS = Number(process.env.BENCH_SWEEP_STEPS ?? 800);
const LIMIT_MS = 8 * 60_000;
const id = randomUUID().slice(0, 8);
const database = `bench_sweeps_${id}`;
const dir = mkdtempSync(join(tmpdir(), 'grokstream-sweep-bench-'));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  GROKSTREAM_KAFKA_BROKERS: BROKERS,
  GROKSTREAM_STORE: 'clickhouse',
  GROKSTREAM_CLICKHOUSE_URL: CLICKHOUSE,
  GROKSTREAM_DATABASE: database,
  GROKSTREAM_PARTITIONS: '4',
  GROKSTREAM_INGEST_GROUP: `bench-sweeps-ingest-${id}`,
};

interface Proc {
  child: ChildProcess;
  out: () => string;
  done: Promise<number | null>;
}

function start(args: string[], withEnv: NodeJS.ProcessEnv = env): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: withEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out, done: new Promise((r) => child.on('close', (code) => r(code))) };
}

async function waitFor(p: Proc, re: RegExp, what: string, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!re.test(p.out())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${p.out().slice(-2000)}`);
    if (p.child.exitCode !== null) throw new Error(`exited before ${what}:\n${p.out().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const services: Proc[] = [];
async function stopAll(ps: Proc[]): Promise<void> {
  for (const p of ps) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  await Promise.race([Promise.all(ps.map((p) => p.done)), new Promise((r) => setTimeout(r, 30_000))]);
  for (const p of ps) if (p.child.exitCode === null) p.child.kill('SIGKILL');
}

interface SweepFigures {
  /** Training time as the sweep reports it; wallSeconds: the whole command. */
  seconds: number;
  wallSeconds: number;
  runs: number;
  stopped: number;
  saved: number;
  planned: number;
}

const GRID = ['examples/modular-addition-grokking.yaml', 'task.train_fraction=0.5,0.6,0.7', `run.steps=${STEPS}`, 'probes.every=0', '--seeds', '2', '--no-report'];

/** The sweep command's end: its exit, its table and summary line. */
async function finished(sweep: Proc, what: string, t0: number): Promise<SweepFigures> {
  const killer = setTimeout(() => sweep.child.kill('SIGKILL'), LIMIT_MS);
  const code = await sweep.done;
  clearTimeout(killer);
  const seconds = (Date.now() - t0) / 1000;
  if (code !== 0) throw new Error(`the sweep ${what} exited ${code}:\n${sweep.out().slice(-3000)}`);
  const m = /early stops: (\d+) of (\d+) runs, (\d+) of (\d+) planned steps saved/.exec(sweep.out());
  if (!m) throw new Error(`no summary line:\n${sweep.out().slice(-2000)}`);
  process.stdout.write(sweep.out().split('\n').filter((l) => /^ {2}|^sweep .*points \(/.test(l)).join('\n') + '\n');
  // The sweep's own figure: from the first point's start to the last one's end, start-up not counted
  // (embedded: the CLI, chdb and the trainer processes load first; on Kafka the services run already).
  const t = /trained (\d+) points? in ([\d.]+) s/.exec(sweep.out());
  if (!t) throw new Error(`no training time line:\n${sweep.out().slice(-2000)}`);
  return { seconds: Number(t[2]), wallSeconds: seconds, runs: Number(m[2]), stopped: Number(m[1]), saved: Number(m[3]), planned: Number(m[4]) };
}

/** Embedded: one process with the detector and chdb, N trainer processes (a fresh data dir each time). */
async function embeddedWith(workers: number): Promise<SweepFigures> {
  const local: NodeJS.ProcessEnv = { ...process.env, GROKSTREAM_KAFKA_BROKERS: '', GROKSTREAM_DATA_DIR: join(dir, `embedded-${workers}`) };
  for (const k of Object.keys(local)) if (k.startsWith('GROKSTREAM_CLICKHOUSE') || k === 'GROKSTREAM_STORE' || k === 'GROKSTREAM_DATABASE') delete local[k];
  process.stderr.write(`bench:sweeps: embedded, --workers ${workers}\n`);
  const t0 = Date.now();
  return finished(start(['sweep', ...GRID, `run.name=bench-embedded-${workers}w-${id}`, '--workers', String(workers)], local), `embedded with --workers ${workers}`, t0);
}

async function sweepWith(workers: number): Promise<SweepFigures> {
  const group = `bench-sweeps-workers-${id}-${workers}`;
  const ws = Array.from({ length: workers }, () => start(['worker', '--group', group, '--checkpoint-dir', join(dir, `w${workers}`)]));
  try {
    for (const w of ws) await waitFor(w, /taking sweep points/, 'a worker to join');
    process.stderr.write(`bench:sweeps: Kafka, ${workers} worker${workers === 1 ? '' : 's'}\n`);
    const t0 = Date.now();
    const sweep = start([
      'sweep',
      ...GRID,
      `run.name=bench-sweep-${workers}w-${id}`,
      '--checkpoint-dir',
      join(dir, `w${workers}`),
      // the same points each time: run them again (new run ids) rather than skip them as finished
      '--rerun',
      'all',
    ]);
    return await finished(sweep, `with ${workers} worker(s)`, t0);
  } finally {
    await stopAll(ws);
  }
}

try {
  // Embedded first, with nothing else running; then the stack's services for the Kafka sweeps.
  const e1 = await embeddedWith(1);
  const e2 = await embeddedWith(2);
  const ingest = start(['ingest']);
  const detect = start(['detect']);
  services.push(ingest, detect);
  await waitFor(ingest, /ingest: \S+ -> clickhouse/i, 'ingest to start');
  await waitFor(detect, /detector \S+ \S+: consuming/, 'the detector to join');
  const one = await sweepWith(1);
  const two = await sweepWith(2);
  const perHour = (r: { seconds: number; runs: number }) => (3600 * r.runs) / r.seconds;
  const figures: Figure[] = [
    { name: 'embedded: runs per hour, --workers 1', value: perHour(e1), unit: 'runs/h', note: `${e1.runs} runs of ≤ ${STEPS} steps in ${e1.seconds.toFixed(0)} s (${e1.wallSeconds.toFixed(0)} s with start-up), one process` },
    { name: 'embedded: runs per hour, --workers 2', value: perHour(e2), unit: 'runs/h', note: `${e2.runs} runs in ${e2.seconds.toFixed(0)} s (${e2.wallSeconds.toFixed(0)} s with start-up), two trainer processes` },
    { name: 'embedded: --workers 2 / --workers 1', value: perHour(e2) / perHour(e1), unit: '×', note: 'on two cores, the detector and chdb in the parent' },
    { name: 'embedded: steps saved by early stops, --workers 1', value: e1.saved, unit: 'steps', note: `of ${e1.planned} planned (${((100 * e1.saved) / e1.planned).toFixed(0)}%); ${e1.stopped} runs stopped` },
    { name: 'embedded: steps saved by early stops, --workers 2', value: e2.saved, unit: 'steps', note: `of ${e2.planned} planned; ${e2.stopped} runs stopped` },
    { name: 'Kafka: runs per hour, 1 worker', value: perHour(one), unit: 'runs/h', note: `${one.runs} runs of ≤ ${STEPS} steps in ${one.seconds.toFixed(0)} s` },
    { name: 'Kafka: runs per hour, 2 workers', value: perHour(two), unit: 'runs/h', note: `${two.runs} runs in ${two.seconds.toFixed(0)} s` },
    { name: 'Kafka: 2 workers / 1 worker', value: perHour(two) / perHour(one), unit: '×', note: 'two trainer processes on two cores, with the broker, ClickHouse, ingest and the detector' },
    { name: 'Kafka: runs stopped early (detector), 1 worker', value: one.stopped, unit: 'runs' },
    { name: 'Kafka: steps saved by early stops, 1 worker', value: one.saved, unit: 'steps', note: `of ${one.planned} planned (${((100 * one.saved) / one.planned).toFixed(0)}%)` },
    { name: 'Kafka: steps saved by early stops, 2 workers', value: two.saved, unit: 'steps', note: `of ${two.planned} planned` },
  ];
  report('bench-results/sweeps.json', 'Sweeps, embedded and on Kafka: runs per hour and steps saved', figures, { steps: STEPS, points: 6, grid: 'task.train_fraction=0.5,0.6,0.7 × seeds 2', brokers: BROKERS });
} finally {
  await stopAll(services);
}
