// grokstream sweep as a user runs it, embedded (the in-process bus and chdb; no servers).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', 'bin', 'grokstream.js');
const dir = mkdtempSync(join(tmpdir(), 'grokstream-sweep-'));
const env: NodeJS.ProcessEnv = { ...process.env, GROKSTREAM_KAFKA_BROKERS: '', GROKSTREAM_DATA_DIR: join(dir, 'data') };
for (const k of Object.keys(env)) if (k.startsWith('GROKSTREAM_CLICKHOUSE') || k === 'GROKSTREAM_STORE') delete env[k];
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 180_000 });

const config = join(dir, 'tiny.yaml');
writeFileSync(
  config,
  `run: {steps: 30, log_every: 10, seed: 1, checkpoint: {dir: ${join(dir, 'ckpt')}}}
task: {kind: modular, p: 7, train_fraction: 0.6}
model: {kind: mlp, hidden: [16]}
optimizer: {kind: adamw, lr: 0.01}
probes: {every: 0}
`,
);

describe('grokstream sweep', () => {
  it('lists the grid with --dry-run, and refuses a bad axis or --rerun with exit 2', () => {
    const dry = cli(['sweep', config, 'task.train_fraction=0.5,0.7', 'optimizer.lr=0.01', '--seeds', '2', '--dry-run']);
    expect(dry.status).toBe(0);
    expect(dry.stderr).toMatch(/sweep tiny-[0-9a-f]{8}, 4 points over task\.train_fraction, run\.seed; 4 to run/);
    expect(dry.stdout.trimEnd().split('\n')).toEqual([
      '    0  task.train_fraction=0.5 optimizer.lr=0.01 run.seed=0  run',
      '    1  task.train_fraction=0.5 optimizer.lr=0.01 run.seed=1  run',
      '    2  task.train_fraction=0.7 optimizer.lr=0.01 run.seed=0  run',
      '    3  task.train_fraction=0.7 optimizer.lr=0.01 run.seed=1  run',
    ]);
    const bad = cli(['sweep', config, 'task.train_fraction']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/"task.train_fraction" is not a sweep axis: write key=a,b,c or key=lo..hi..step/);
    const badRerun = cli(['sweep', config, 'task.train_fraction=0.5,0.7', '--rerun', 'optimizer.lr=1']);
    expect(badRerun.status).toBe(2);
    expect(badRerun.stderr).toMatch(/optimizer\.lr is not swept/);
    const badValue = cli(['sweep', config, 'task.train_fraction=0.5,7']);
    expect(badValue.status).toBe(2);
    expect(badValue.stderr).toMatch(/task\.train_fraction/);
  });

  it('runs every point with one progress display and a table; the same command again skips them; --rerun runs the chosen again', () => {
    const first = cli(['sweep', config, 'task.train_fraction=0.5,0.7']);
    expect(first.status).toBe(0);
    expect(first.stderr).toMatch(/sweep tiny-[0-9a-f]{8}, 2 points over task\.train_fraction; 2 to run/);
    expect(first.stderr).toMatch(/point 0 \(task\.train_fraction=0\.5\) starts as tiny-/);
    expect(first.stderr).toMatch(/point 1 \(task\.train_fraction=0\.7\) completed at step 30 \[2\/2 points\]/);
    const table = first.stdout.split('\n');
    expect(table[1]).toMatch(/^ {2}task\.train_fraction {2}memorized {2}grokked {2}delay {2}train acc {2}test acc {2}stopped by {2}run$/);
    expect(table[3]).toMatch(/^ {2}0\.5 {18}(\d+|–) .* tiny-\d{8}T\d{6}-[0-9a-f]{6}$/);
    expect(first.stdout).toMatch(/early stops: 0 of 2 runs, 0 of 60 planned steps saved/);
    expect(first.stdout).toMatch(/^ {2}trained 2 points in [\d.]+ s \(\d+ runs\/h\)$/m);
    const report = /report: (\S+)/.exec(first.stdout)![1]!;
    expect(existsSync(join(process.cwd(), report)) || existsSync(report)).toBe(true);

    const again = cli(['sweep', config, 'task.train_fraction=0.5,0.7']);
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/0 to run, 2 already finished \(skipped/);
    expect(again.stdout).toMatch(/skipped \(tiny-/);

    const rerun = cli(['sweep', config, 'task.train_fraction=0.5,0.7', '--rerun', 'task.train_fraction=0.7', '--no-report']);
    expect(rerun.status).toBe(0);
    expect(rerun.stderr).toMatch(/1 to run, 1 already finished/);
    expect(rerun.stderr).toMatch(/point 1 \(task\.train_fraction=0\.7\) completed/);
    expect(rerun.stderr).not.toMatch(/point 0 \(task\.train_fraction=0\.5\) completed/);
  }, 120_000); // several CLI processes that train: past the unit default of 20 s on a loaded machine (CI run 22)

  it('--workers 2 trains the points in two trainer processes: every run stored, and the detector here stops runs there', () => {
    // A policy that always fires: test accuracy must improve by 1 within 3 steps.
    const detector = join(dir, 'impatient.yaml');
    writeFileSync(detector, 'detector: {name: impatient, version: "1"}\npolicies:\n  - {kind: patience, monitor: test_acc, patience: 3, min_delta: 1}\n');
    // Gated (run.stop_gate): a 30-step point on native trains at ~140 steps/s, faster than a stop
    // comes back from the parent's detector (CI run 16 saw point 1 complete before its stop).
    mkdirSync(join(dir, 'gated'), { recursive: true });
    const gated = join(dir, 'gated', 'tiny.yaml');
    writeFileSync(gated, readFileSync(config, 'utf8').replace('run: {steps: 30,', 'run: {stop_gate: {lag: 1}, steps: 30,'));
    const r = cli(['sweep', gated, 'task.train_fraction=0.3,0.4,0.6', '--workers', '2', '--detector', detector, '--no-report']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/starting 2 trainer processes/);
    // The two first points train at once: the second starts before the first ends.
    const started1 = r.stderr.indexOf('point 1 (task.train_fraction=0.4) starts');
    const ended0 = r.stderr.search(/point 0 \(task\.train_fraction=0\.3\) stopped early/);
    expect(started1).toBeGreaterThan(-1);
    expect(ended0).toBeGreaterThan(started1);
    // The policy fires at step 4 (no step can improve test accuracy by 1); the gate lets one more through.
    for (const [i, f] of [[0, '0.3'], [1, '0.4'], [2, '0.6']]) expect(r.stderr).toMatch(new RegExp(`point ${i} \\(task\\.train_fraction=${f}\\) stopped early at step [45] by patience`));
    // Each run's rows came through the parent's store: the table has their final accuracies.
    const rows = r.stdout.split('\n').filter((l) => / tiny-\d{8}T\d{6}-[0-9a-f]{6}$/.test(l));
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatch(/^ {2}0\.[346] +\S+ +\S+ +\S+ +[\d.]+ +[\d.]+ +patience +tiny-/);
    expect(r.stdout).toMatch(/early stops: 3 of 3 runs, \d+ of 90 planned steps saved/);
  }, 120_000); // several CLI processes that train: past the unit default of 20 s on a loaded machine (CI run 22)

  it('--workers with --kafka is refused: on Kafka, workers are grokstream worker processes', () => {
    const r = spawnSync(process.execPath, [BIN, 'sweep', config, 'task.train_fraction=0.4,0.5', '--workers', '2', '--kafka', '127.0.0.1:1'], { encoding: 'utf8', env, timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/start `grokstream worker` processes instead/);
  });
});
