// The sweep acceptance, embedded (issue 12): `grokstream sweep` of the grokking example over
// task.train_fraction=0.3,0.5,0.7 on native TensorFlow, as a user runs it. Power et al.'s trend
// must show in its table: the grok step falls as the train fraction rises. The detector (default
// policies) runs across the sweep and may stop a run once it has converged, never before it
// grokked. Then the same command again skips every point (they are finished in the store).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBounded } from '../bounded-command.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'services', 'cli', 'bin', 'grokstream.js');
const LIMIT_MS = 8 * 60_000;

describe('grokstream sweep (embedded)', () => {
  it("shows Power et al.'s trend over the train fraction, stops only converged runs, and skips finished points when run again", { timeout: 2 * LIMIT_MS + 60_000 }, async () => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GROKSTREAM_')) env[k] = v;
    Object.assign(env, { GROKSTREAM_DATA_DIR: join(mkdtempSync(join(tmpdir(), 'grokstream-e2e-sweep-')), 'data'), GROKSTREAM_KAFKA_BROKERS: '' });
    const args = [BIN, 'sweep', 'examples/modular-addition-grokking.yaml', 'task.train_fraction=0.3,0.5,0.7', 'run.steps=2500', 'probes.every=0', 'run.backend=tensorflow', 'run.log_every=500'];
    const t0 = Date.now();
    const out = await runBounded(process.execPath, args, { limitMs: LIMIT_MS, env, cwd: ROOT, echo: 'sweep' });
    const seconds = (Date.now() - t0) / 1000;
    const rows = [...out.matchAll(/^ {2}(0\.[357]) +(\d+|–) +(\d+|–) +(\d+|–) +\S+ +\S+ +(\S+) +(\S+)$/gm)].map((m) => ({
      fraction: Number(m[1]),
      memorized: Number(m[2]),
      grokked: Number(m[3]),
      stoppedBy: m[5],
    }));
    expect(rows.map((r) => r.fraction)).toEqual([0.3, 0.5, 0.7]);
    for (const r of rows) {
      expect(r.memorized, `train fraction ${r.fraction}`).toBeGreaterThan(0);
      expect(r.grokked, `train fraction ${r.fraction}`).toBeGreaterThan(r.memorized);
      expect(['–', 'converged'], `train fraction ${r.fraction}`).toContain(r.stoppedBy);
    }
    // Power et al.: more data, sooner grokking.
    expect(rows[0]!.grokked).toBeGreaterThan(rows[1]!.grokked);
    expect(rows[1]!.grokked).toBeGreaterThan(rows[2]!.grokked);
    expect(out).toMatch(/early stops: \d of 3 runs, \d+ of 7500 planned steps saved/);
    expect(out).toMatch(/report: \S+sweep-modular-addition-grokking-[0-9a-f]{8}\.html/);

    const again = await runBounded(process.execPath, [...args, '--no-report'], { limitMs: 120_000, env, cwd: ROOT, echo: 'sweep again' });
    expect(again).toMatch(/0 to run, 3 already finished \(skipped/);
    expect(again.match(/skipped \(modular-addition-grokking-/g)).toHaveLength(3);
    console.log(`sweep: grok steps ${rows.map((r) => `${r.fraction} → ${r.grokked}`).join(', ')}; ${seconds.toFixed(0)} s`);
  });
});
