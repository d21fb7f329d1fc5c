// Imported runs through the real detector: what an import leaves unknown (NaN lr and weight norm,
// null test metrics, no probes) must not trip a policy or a phase; what the log records must.
// (@grokstream/detector resolves through the workspace root's devDependencies: only this spec uses it.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectorOptions, parseDetectorConfig, replayEvents } from '@grokstream/detector';
import { parseLog } from './parse-log.ts';
import { resolveMapping } from './mapping.ts';
import { logToEvents } from './to-events.ts';

const ALL_POLICIES = parseDetectorConfig(
  {
    policies: [
      { kind: 'divergence' },
      { kind: 'divergence', monitor: 'test_loss' },
      { kind: 'no_grok_budget' },
      { kind: 'degradation' },
      { kind: 'patience', patience: 5000 },
    ],
  },
  'import spec',
);

async function detect(text: string, source: string) {
  const rows = parseLog(text, source);
  const { events } = logToEvents(rows, resolveMapping(rows.columns, {}), { runId: 'imported', name: 'imported', source, nowMs: 1_700_000_000_000 });
  const out = await replayEvents(events, detectorOptions(ALL_POLICIES));
  return {
    phases: out.flatMap((o) => (o.name === 'PhaseChanged' ? [[o.value.phase, o.value.step] as const] : [])),
    stops: out.flatMap((o) => (o.name === 'StopRun' ? [o.value] : [])),
  };
}

describe('imported runs and the detector', () => {
  it('the Keras example memorizes, then groks, and no policy stops it', async () => {
    const csv = readFileSync(join(import.meta.dirname, '..', '..', '..', 'examples', 'imported', 'keras-csvlogger.csv'), 'utf8');
    const { phases, stops } = await detect(csv, 'keras-csvlogger.csv');
    const names = phases.map(([p]) => p);
    expect(names).toContain('MEMORIZATION');
    expect(names).toContain('GROKKING');
    expect(names.indexOf('MEMORIZATION')).toBeLessThan(names.indexOf('GROKKING'));
    expect(names).not.toContain('DIVERGED');
    expect(stops).toEqual([]);
  });

  it('a log with only a train loss is neither diverged nor stopped', async () => {
    const rows = Array.from({ length: 400 }, (_, i) => `${i + 1},${(4 * Math.exp(-i / 50) + 0.01).toPrecision(6)}`);
    const { phases, stops } = await detect(`step,loss\n${rows.join('\n')}\n`, 'loss-only.csv');
    expect(phases.map(([p]) => p)).not.toContain('DIVERGED');
    expect(stops).toEqual([]);
  });

  it('a NaN the log records is a divergence', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => `${i},${i === 25 ? 'nan' : (2 - i * 0.01).toFixed(2)},${0.1 + i * 0.01}`);
    const { phases, stops } = await detect(`epoch,loss,accuracy\n${rows.join('\n')}\n`, 'diverged.csv');
    expect(phases).toContainEqual(['DIVERGED', 25]);
    expect(stops.map((s) => [s.policy, s.step])).toEqual([['divergence', 25]]);
  });
});
