// The sweep acceptance, embedded (issue 12): `grokstream sweep` of the grokking example over
// task.train_fraction=0.3,0.5,0.7 on native TensorFlow, as a user runs it. Power et al.'s trend
// must show in its table and its report: the grok step (and the delay) falls as the train
// fraction rises. The detector (default
// policies) runs across the sweep and may stop a run once it has converged, never before it
// grokked. Then the same command again skips every point (they are finished in the store).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { ReportModel } from '@grokstream/report';
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
    const reportPath = /report: (\S+sweep-modular-addition-grokking-[0-9a-f]{8}\.html)/.exec(out)?.[1];
    expect(reportPath).toBeDefined();
    // The report too: its section for the swept key plots the delay falling as the fraction rises.
    const html = readFileSync(isAbsolute(reportPath!) ? reportPath! : join(ROOT, reportPath!), 'utf8');
    const model = JSON.parse(/<script type="application\/json" id="grokstream-model">(.*?)<\/script>/s.exec(html)![1]!) as ReportModel;
    const axis = model.sections.find((x) => x.id === 'grokstream-sweep-axes-task.train_fraction');
    expect(axis?.title).toBe('Sweep axes: task.train_fraction');
    const delay = axis!.panels.find((p) => p.id === 'delay-vs-swept')!.view;
    const points = delay.kind === 'chart' ? ((delay.option.series as { data: [number, number, string][] }[])[0]!.data) : [];
    expect(points.map((p) => p[0])).toEqual([0.3, 0.5, 0.7]);
    expect(points[0]![1]).toBeGreaterThan(points[1]![1]);
    expect(points[1]![1]).toBeGreaterThan(points[2]![1]);

    const again = await runBounded(process.execPath, [...args, '--no-report'], { limitMs: 120_000, env, cwd: ROOT, echo: 'sweep again' });
    expect(again).toMatch(/0 to run, 3 already finished \(skipped/);
    expect(again.match(/skipped \(modular-addition-grokking-/g)).toHaveLength(3);
    console.log(`sweep: grok steps ${rows.map((r) => `${r.fraction} → ${r.grokked}`).join(', ')}; ${seconds.toFixed(0)} s`);
  });
});
