// The transformer example (examples/transformer-grokking.yaml) on native TensorFlow, as a user runs
// it: `grokstream run` with the embedded pipeline (detector with its default policies, chdb store,
// event log). A one-layer transformer memorizes in ~100 steps and generalizes ~2,000 steps later;
// the detector must not stop it before it groks. Bounded by the 10 minutes the example promises
// (about 2.5 on 2 cores with the probes of the example).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBounded } from '../bounded-command.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'services', 'cli', 'bin', 'grokstream.js');
const LIMIT_MS = 10 * 60_000;

describe('transformer example', () => {
  it('groks on the native backend within 10 minutes, and no policy stops it before', { timeout: LIMIT_MS + 60_000 }, async () => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GROKSTREAM_')) env[k] = v;
    Object.assign(env, { GROKSTREAM_DATA_DIR: join(mkdtempSync(join(tmpdir(), 'grokstream-e2e-transformer-')), 'data'), GROKSTREAM_KAFKA_BROKERS: '' });
    const t0 = Date.now();
    const out = await runBounded(process.execPath, [BIN, 'run', 'examples/transformer-grokking.yaml', 'run.backend=tensorflow', '--no-report'], {
      limitMs: LIMIT_MS,
      env,
      cwd: ROOT,
      echo: 'transformer',
    });
    const minutes = (Date.now() - t0) / 60_000;
    expect(out).toMatch(/^backend: tensorflow/m);
    const memorized = Number(/memorized \(train acc ≥ 0\.99\): step (\d+)/.exec(out)?.[1]);
    const grokked = Number(/grokked \(test acc ≥ 0\.95 after memorizing\): step (\d+)/.exec(out)?.[1]);
    expect(memorized).toBeGreaterThan(0);
    expect(grokked).toBeGreaterThan(0);
    // Grokking: generalization comes long after memorization (~80 vs ~2,200 measured).
    expect(grokked - memorized).toBeGreaterThan(5 * memorized);
    // The detector saw it: memorization, a wait, then grokking; a stop, if any, only after it grokked.
    const phases = /phases \(detector\): (.*)/.exec(out)?.[1] ?? '';
    expect(phases).toMatch(/MEMORIZATION at \d+/);
    expect(phases).toMatch(/GROKKING at \d+/);
    const stop = /stop: at step (\d+) by (\w+)/.exec(out);
    if (stop) {
      expect(Number(stop[1])).toBeGreaterThanOrEqual(grokked);
      expect(stop[2]).toBe('converged');
    }
    console.log(`transformer example: memorized at ${memorized}, grokked at ${grokked}, ${minutes.toFixed(1)} min; ${stop ? `stopped at ${stop[1]} by ${stop[2]}` : 'not stopped'}`);
  });
});
