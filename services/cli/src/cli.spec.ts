// The grokstream command as a user runs it, on the in-process bus (no servers needed).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', 'bin', 'grokstream.js');
const dir = mkdtempSync(join(tmpdir(), 'grokstream-cli-'));
// The embedded default, with its data in this spec's own directory (not the checkout's).
const env: NodeJS.ProcessEnv = { ...process.env, GROKSTREAM_KAFKA_BROKERS: '', GROKSTREAM_DATA_DIR: join(dir, 'data') };
for (const k of Object.keys(env)) if (k.startsWith('GROKSTREAM_CLICKHOUSE') || k === 'GROKSTREAM_STORE') delete env[k];
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 120_000 });

const config = join(dir, 'tiny.yaml');
writeFileSync(
  config,
  `run: {steps: 40, log_every: 10, seed: 1, checkpoint: {dir: ${join(dir, 'ckpt')}}}
task: {kind: modular, p: 7, train_fraction: 0.6}
model: {kind: mlp, hidden: [16]}
optimizer: {kind: adamw, lr: 0.01}
probes: {every: 5, batch_size: 8}
`,
);

describe('grokstream', () => {
  it('prints help', () => {
    const res = cli(['--help']);
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/grokstream run CONFIG.yaml/);
  });

  it('rejects an unknown command and a bad override with exit code 2', () => {
    expect(cli(['train']).status).toBe(2);
    const res = cli(['run', config, 'optimizer.lr']);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/"optimizer.lr" is not an override: write key.path=value/);
  });

  it('explains an invalid config and exits 2 before training', () => {
    const res = cli(['run', config, 'optimizer.lr=-1', 'model.hiden=[3]']);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/optimizer\.lr: must be > 0/);
    expect(res.stderr).toMatch(/model\.hiden/);
    expect(res.stderr).not.toMatch(/backend:/);
  });

  it('runs a config to the end with progress and a summary', () => {
    const res = cli(['run', config]);
    expect(res.status).toBe(0);
    expect(res.stderr).toMatch(/backend: (tensorflow|wasm|cpu)/);
    expect(res.stderr).toMatch(/step 40\/40 {2}train/);
    expect(res.stdout).toMatch(/completed at step 40/);
    expect(res.stdout).toMatch(/memorized \(train acc ≥ 0\.99\): (no|step \d+)/);
  });

  it('stops cleanly on SIGINT with exit 130, and --resume continues the steps', async () => {
    const child = spawn(process.execPath, [BIN, 'run', config, 'run.steps=100000', 'probes.every=0'], { env });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      if (/step +20\//.test(err) && !child.killed) child.kill('SIGINT');
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(130);
    expect(err).toMatch(/SIGINT: stopping at the next step boundary/);
    const m = /run (\S+): interrupted at step (\d+)/.exec(out)!;
    expect(m).not.toBeNull();
    const [, runId, stoppedAt] = m;
    const resumed = cli(['run', config, `run.steps=${Number(stoppedAt) + 10}`, 'probes.every=0', '--resume', runId!]);
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`resuming ${runId} from step ${stoppedAt}`));
    expect(resumed.stdout).toMatch(new RegExp(`run ${runId}: completed at step ${Number(stoppedAt) + 10}`));
  });

  it('says what to do when there is nothing to resume', () => {
    const res = cli(['run', config, '--resume', 'no-such-run']);
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/no checkpoint of run no-such-run under .*; check --resume and run.checkpoint.dir/);
  });
});
