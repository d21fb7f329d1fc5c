// `grokstream run` with nothing configured runs the whole pipeline in one process: trainer,
// detector (whose StopRun the trainer obeys), ingest into chdb under GROKSTREAM_DATA_DIR, the
// event log and the report. Then report, import and the usage errors, as a user runs them.
// Tiny runs (60 steps, no probes); at most two commands at a time (two cores): about a
// minute in all on two cores.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'services', 'cli', 'bin', 'grokstream.js');
const CONFIG = join(ROOT, 'examples', 'modular-addition-grokking.yaml');
const TMP = mkdtempSync(join(tmpdir(), 'grokstream-e2e-cli-'));
const STEPS = 60;
const SPAWN_TIMEOUT_MS = 90_000;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A fresh data directory and the environment that points the command at it (the embedded store, no Kafka). */
function workspace(name: string): { dataDir: string; env: NodeJS.ProcessEnv; tmp: string } {
  const tmp = mkdtempSync(join(TMP, `${name}-`));
  const env: NodeJS.ProcessEnv = {};
  // Nothing the caller's shell configures (a ClickHouse URL, a store, a database) may leak in.
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GROKSTREAM_')) env[k] = v;
  const dataDir = join(tmp, 'data');
  Object.assign(env, { GROKSTREAM_DATA_DIR: dataDir, GROKSTREAM_KAFKA_BROKERS: '' });
  return { dataDir, env, tmp };
}

// At most two commands at once: each training one wants both cores.
let running = 0;
const queue: Array<() => void> = [];
async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= 2) await new Promise<void>((r) => queue.push(r));
  else running++;
  try {
    return await work();
  } finally {
    const next = queue.shift();
    if (next) next();
    else running--;
  }
}

/** The command as a user runs it; async, so the test worker's event loop keeps running. */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  return slot(
    () =>
      new Promise<Result>((resolveResult, reject) => {
        const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, timeout: SPAWN_TIMEOUT_MS });
        const res: Result = { code: null, signal: null, stdout: '', stderr: '' };
        child.stdout.on('data', (d) => (res.stdout += d));
        child.stderr.on('data', (d) => (res.stderr += d));
        child.on('error', reject);
        child.on('close', (code, signal) => resolveResult({ ...res, code, signal }));
      }),
  );
}

/** Everything the command said, for assertion messages. */
const said = (r: Result) => `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr.slice(-3000)}`;

const tinyRun = (tmp: string, steps = STEPS) => ['run', CONFIG, `run.steps=${steps}`, 'probes.every=0', `run.checkpoint.dir=${join(tmp, 'checkpoints')}`];

/** The default run, shared by (a) and the report cases (d), which read its store. */
const defaultRun = (() => {
  let started: Promise<{ res: Result; dataDir: string; env: NodeJS.ProcessEnv; tmp: string }> | undefined;
  return () =>
    (started ??= (async () => {
      const w = workspace('default');
      return { ...w, res: await cli([...tinyRun(w.tmp), 'run.tags.sweep=e2e-cli'], w.env) };
    })());
})();

const runIdOf = (r: Result) => /^run (\S+): /m.exec(r.stdout)?.[1];

/**
 * Commands on the default run's store, one at a time: chdb opens a data directory in one process
 * at a time, and (a) queries it while (d) reports from it (CI once ran them together: the second
 * got "in use by process N").
 */
const onDefaultStore = (() => {
  let last: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const next = last.then(work, work);
    last = next.catch(() => {});
    return next;
  };
})();

// Independent cases run side by side (two commands at a time, see slot()); each waits its turn.
describe.concurrent('grokstream run, report and import on the embedded pipeline', { timeout: 240_000 }, () => {
  it('(a) a default run: detector, store, event log and report, and grokstream query reads the store', async ({ expect }) => {
    const { res, dataDir, env } = await defaultRun();
    expect(res.code, said(res)).toBe(0);
    const runId = runIdOf(res)!;
    expect(res.stdout, said(res)).toMatch(new RegExp(`^run ${runId}: completed at step ${STEPS}$`, 'm'));
    expect(res.stdout).toMatch(/^ {2}phases \(detector\): .+$/m);
    expect(res.stdout).toMatch(/^ {2}stop: none \(the run went its full length\)$/m);
    expect(res.stderr).toMatch(/events to the embedded pipeline \(detector, store chdb .*chdb, event log .*\.avro\)/);
    const data = /^ {2}data: (.+), database grokstream; events: (.+)$/m.exec(res.stdout);
    expect(data, said(res)).not.toBeNull();
    expect(resolve(ROOT, data![1]!)).toBe(join(dataDir, 'chdb'));
    const eventLog = join(dataDir, 'events', `${runId}.avro`);
    expect(resolve(ROOT, data![2]!)).toBe(eventLog);
    const reportLine = /^ {2}report: (.+)$/m.exec(res.stdout);
    expect(reportLine, said(res)).not.toBeNull();
    const report = join(dataDir, 'reports', `${runId}.html`);
    expect(resolve(ROOT, reportLine![1]!)).toBe(report);
    expect(readFileSync(eventLog).subarray(0, 4).toString('latin1')).toBe('Obj\x01'); // an Avro object container file
    expect(statSync(report).size).toBeGreaterThan(10_000);
    expect(readFileSync(report, 'utf8')).toContain(runId);

    // The same environment: query reads the embedded store the run wrote.
    const q = await onDefaultStore(() => cli(['query', 'SELECT count() AS n, uniqExact(step) AS steps, min(step) AS first, max(step) AS last FROM grokstream.steps', '--format', 'json'], env));
    expect(q.code, said(q)).toBe(0);
    expect(JSON.parse(q.stdout)).toEqual([{ n: STEPS, steps: STEPS, first: 1, last: STEPS }]);
  });

  it('(b) a detector config that stops early: the trainer obeys the in-process StopRun', async ({ expect }) => {
    const w = workspace('patience');
    const detector = join(w.tmp, 'detector.yaml');
    // The test loss rises from the first steps of this config: it never improves on step 1.
    writeFileSync(detector, 'detector: {name: e2e-patience}\npolicies:\n  - kind: patience\n    monitor: test_loss\n    patience: 5\n');
    const res = await cli([...tinyRun(w.tmp), '--detector', detector], w.env);
    expect(res.code, said(res)).toBe(0);
    const end = /^run (\S+): early_stopped at step (\d+) \(command ([0-9a-f-]+)\)$/m.exec(res.stdout);
    expect(end, said(res)).not.toBeNull();
    const stoppedAt = Number(end![2]);
    const stop = /^ {2}stop: at step (\d+) by patience: test_loss has not improved .*\(patience 5\)$/m.exec(res.stdout);
    expect(stop, said(res)).not.toBeNull();
    const decidedAt = Number(stop![1]);
    expect(decidedAt).toBeGreaterThanOrEqual(6); // patience 5 counted from step 1
    expect(stoppedAt).toBeGreaterThanOrEqual(decidedAt);
    expect(stoppedAt).toBeLessThan(STEPS);
    // The trainer's control listener logged the command it obeyed: the one the detector sent.
    expect(res.stderr).toMatch(new RegExp(`stop: patience \\(.*\\) from e2e-patience 2, command ${end![3]}`));
    expect(existsSync(join(w.dataDir, 'events', `${end![1]}.avro`))).toBe(true);
  });

  it('(c) --no-detect --no-store --no-report: only the event log', async ({ expect }) => {
    const w = workspace('bare');
    const res = await cli([...tinyRun(w.tmp, 20), '--no-detect', '--no-store', '--no-report'], w.env);
    expect(res.code, said(res)).toBe(0);
    const runId = runIdOf(res)!;
    expect(res.stdout).toMatch(new RegExp(`^run ${runId}: completed at step 20$`, 'm'));
    expect(res.stdout).not.toMatch(/phases \(detector\)/);
    expect(res.stdout).not.toMatch(/^ {2}stop:/m);
    expect(res.stdout).not.toMatch(/report:/);
    expect(res.stdout).toMatch(/^ {2}events: .+\.avro \(nothing stored: --no-store\)$/m);
    expect(res.stderr).toMatch(/events to the embedded pipeline \(event log .*\.avro\)/);
    const eventLog = join(w.dataDir, 'events', `${runId}.avro`);
    expect(readFileSync(eventLog).subarray(0, 4).toString('latin1')).toBe('Obj\x01');
    expect(existsSync(join(w.dataDir, 'chdb'))).toBe(false);
    expect(existsSync(join(w.dataDir, 'reports'))).toBe(false);
  });

  it('(d) grokstream report: of the default run, of an unknown sweep, of an unknown run', async ({ expect }) => {
    const { res: run, env, tmp } = await defaultRun();
    expect(run.code, said(run)).toBe(0);
    const runId = runIdOf(run)!;
    // One at a time, with (a)'s query too: chdb opens a data directory in one process at a time.
    const out = join(tmp, 'again.html');
    const ok = await onDefaultStore(() => cli(['report', runId, '--out', out], env));
    expect(ok.code, said(ok)).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^report of .*: ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(`, 'm'));
    expect(statSync(out).size).toBeGreaterThan(10_000);
    expect(readFileSync(out, 'utf8')).toContain(runId);

    const sweep = await onDefaultStore(() => cli(['report', '--sweep', 'nope'], env));
    expect(sweep.code, said(sweep)).toBe(1);
    expect(sweep.stderr).toMatch(/^grokstream report: no runs of sweep nope in grokstream; sweeps: e2e-cli$/m);

    const unknown = await onDefaultStore(() => cli(['report', 'unknown-run'], env));
    expect(unknown.code, said(unknown)).toBe(1);
    expect(unknown.stderr).toMatch(new RegExp(`^grokstream report: no run unknown-run in grokstream; latest runs: ${runId}$`, 'm'));
  });

  it('(e) grokstream import of a Keras CSV log: phases and a report; a --map to a missing column is a usage error listing the columns', async ({ expect }) => {
    const w = workspace('import');
    const csv = join(ROOT, 'examples', 'imported', 'keras-csvlogger.csv');
    const res = await cli(['import', csv], w.env);
    expect(res.code, said(res)).toBe(0);
    expect(res.stderr).toMatch(/1200 rows, 1200 steps as run imported-keras-csvlogger-[0-9a-f]{8}; columns step=epoch, train_loss=loss, train_acc=accuracy, test_loss=val_loss, test_acc=val_accuracy/);
    const runId = runIdOf(res)!;
    expect(res.stdout).toMatch(new RegExp(`^run ${runId}: 1200 steps imported into chdb .*chdb, database grokstream$`, 'm'));
    expect(res.stdout).toMatch(/^ {2}phases \(detector\): MEMORIZATION at \d+, GROKKING at \d+/m);
    expect(res.stdout).toMatch(/^ {2}stop: /m);
    const report = /^ {2}report: (.+)$/m.exec(res.stdout);
    expect(report, said(res)).not.toBeNull();
    expect(resolve(ROOT, report![1]!)).toBe(join(w.dataDir, 'reports', `${runId}.html`));
    expect(statSync(join(w.dataDir, 'reports', `${runId}.html`)).size).toBeGreaterThan(10_000);

    const bad = await cli(['import', csv, '--map', 'train_loss=nope'], workspace('import-bad').env);
    expect(bad.code, said(bad)).toBe(2);
    expect(bad.stderr).toMatch(/--map train_loss=nope: the log has no column "nope"; its columns are "epoch", "accuracy", "loss", "val_accuracy", "val_loss"/);
    expect(bad.stderr).toMatch(/\(grokstream --help for usage\)/);
  });

  it('(f) --kafka with --ui is a usage error (exit 2), before any training', async ({ expect }) => {
    const w = workspace('kafka-ui');
    const res = await cli([...tinyRun(w.tmp), '--kafka', '127.0.0.1:1', '--ui'], w.env);
    expect(res.code, said(res)).toBe(2);
    expect(res.stderr).toMatch(/^grokstream run: --ui is for the embedded pipeline; with Kafka the trainer runs alone/m);
    expect(res.stderr).not.toMatch(/backend:/);
    expect(existsSync(w.dataDir)).toBe(false);
  });
  it('(g) Ctrl-C while a --ui run trains ends it at once, checkpointed, exit 130 (not left serving)', async ({ expect }) => {
    const w = workspace('ui-interrupt');
    const res = await slot(
      () =>
        new Promise<Result>((resolveResult, reject) => {
          const child = spawn(process.execPath, [BIN, ...tinyRun(w.tmp, 100_000), 'run.log_every=10', '--ui', '--port', '0'], { cwd: ROOT, env: w.env, timeout: SPAWN_TIMEOUT_MS });
          const r: Result = { code: null, signal: null, stdout: '', stderr: '' };
          let sent = false;
          child.stdout.on('data', (d) => (r.stdout += d));
          child.stderr.on('data', (d) => {
            r.stderr += d;
            if (!sent && /step +20\//.test(r.stderr)) {
              sent = true;
              child.kill('SIGINT');
            }
          });
          child.on('error', reject);
          child.on('close', (code, signal) => resolveResult({ ...r, code, signal }));
        }),
    );
    expect(res.code, said(res)).toBe(130);
    expect(res.stderr).toMatch(/live page: http:\/\/127\.0\.0\.1:\d+\//);
    expect(res.stderr).not.toMatch(/Ctrl-C to stop serving/);
    expect(res.stdout).toMatch(/interrupted at step \d+/);
  });
  it('(h) grokstream doctor lists every backend with its state and why, and the store', async ({ expect }) => {
    const w = workspace('doctor');
    const res = await cli(['doctor'], w.env);
    expect(res.code, said(res)).toBe(0);
    for (const b of ['tensorflow', 'wasm', 'cpu']) expect(res.stdout).toMatch(new RegExp(`^(ok  |MISS)  backend ${b} `, 'm'));
    // Native TensorFlow either runs (its version and where it runs) or says why not and what to do.
    expect(res.stdout).toMatch(/^ok {4}backend tensorflow +TensorFlow \d+\.\d+\.\d+, on the (CPU|GPU)|^MISS {2}backend tensorflow +native TensorFlow not (installed|built)/m);
    expect(res.stdout).toMatch(/^ok {4}runs use +(tensorflow|wasm|cpu) /m);
    // The e2e setup builds the native backend, and the graph addon with it.
    expect(res.stdout).toMatch(/^ok {4}graph addon +loads: MLP runs on native TensorFlow take each step as one graph/m);
    expect(res.stdout).toMatch(/^ok {4}store +chdb .*chdb, database grokstream: 0 runs$/m);
  });
});
