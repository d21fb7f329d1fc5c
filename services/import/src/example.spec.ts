// The example in examples/imported/ round-trips: the Keras-style CSV imports, automatically and
// with the mapping its README spells out, into the recorded run it was made from.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StepMetrics } from '@grokstream/schemas';
import { parseLog } from './parse-log.ts';
import { resolveMapping } from './mapping.ts';
import { logToEvents } from './to-events.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const EXAMPLE = join(ROOT, 'examples', 'imported');
const RECORDED = join(ROOT, 'services', 'detector', 'eval', 'real', 'modular-sub-seed0.jsonl');

const csv = readFileSync(join(EXAMPLE, 'keras-csvlogger.csv'), 'utf8');
const recorded = readFileSync(RECORDED, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as StepMetrics);

function importExample(map: Record<string, string>) {
  const rows = parseLog(csv, 'examples/imported/keras-csvlogger.csv');
  const mapping = resolveMapping(rows.columns, map, rows.source);
  return { mapping, ...logToEvents(rows, mapping, { runId: 'keras-example', name: 'keras-csvlogger', source: rows.source, nowMs: 1_700_000_000_000 }) };
}

/** Equal to 6 significant digits. */
function close(actual: number | null, expected: number | null): boolean {
  if (actual === null || expected === null) return actual === expected;
  return Math.abs(actual - expected) <= 5e-6 * Math.abs(expected);
}

describe('examples/imported/keras-csvlogger.csv', () => {
  const auto = importExample({});

  it('has the Keras CSVLogger header and one row per recorded step', () => {
    expect(csv.split('\n')[0]).toBe('epoch,accuracy,loss,val_accuracy,val_loss');
    expect(auto.steps).toBe(recorded.length);
    expect(auto.extra).toEqual([]);
    expect(auto.ignored).toEqual([]);
    expect(auto.skipped).toEqual([]);
  });

  it('imports into the recorded curve, to 6 significant digits', () => {
    const steps = auto.events.flatMap((e) => (e.name === 'StepMetrics' ? [e.value] : []));
    expect(steps.map((s) => s.step)).toEqual(recorded.map((r) => r.step));
    const fields = ['train_loss', 'train_acc', 'test_loss', 'test_acc'] as const;
    const off = steps.flatMap((s, i) => fields.filter((f) => !close(s[f], recorded[i]![f])).map((f) => `step ${s.step} ${f}: ${s[f]} vs ${recorded[i]![f]}`));
    expect(off).toEqual([]);
    // The columns the Keras log does not have stay unknown.
    for (const s of steps) {
      expect(s.lr).toBeNaN();
      expect(s.weight_norm).toBeNaN();
      expect(s.grad_norm_sq).toBeNull();
      expect(s.init_distance).toBeNull();
    }
  });

  it('memorizes and then groks, as the recorded run did', () => {
    const steps = auto.events.flatMap((e) => (e.name === 'StepMetrics' ? [e.value] : []));
    const memorized = steps.find((s) => s.train_acc !== null && s.train_acc >= 0.99)!;
    const generalized = steps.find((s) => s.step > memorized.step && s.test_acc !== null && s.test_acc >= 0.95)!;
    expect(memorized.step).toBe(132);
    expect(memorized.test_acc).toBeLessThan(0.1);
    expect(generalized.step).toBe(495); // 0.949999988 in the float32 record, 0.95 to 6 digits
  });

  it('imports the same with the mapping the README spells out', () => {
    const readme = readFileSync(join(EXAMPLE, 'README.md'), 'utf8');
    expect(readme).toContain('pnpm grokstream import examples/imported/keras-csvlogger.csv\n');
    const explicit = readme.split('\n').find((l) => l.startsWith('pnpm grokstream import') && l.includes('--map'));
    expect(explicit).toBeDefined();
    const map = Object.fromEntries([...explicit!.matchAll(/--map (\w+)=(\w*)/g)].map((m) => [m[1]!, m[2]!]));
    expect(map).toEqual({ step: 'epoch', train_loss: 'loss', train_acc: 'accuracy', test_loss: 'val_loss', test_acc: 'val_accuracy' });
    const spelled = importExample(map);
    expect(spelled.mapping.fields).toEqual(auto.mapping.fields);
    expect(spelled.events.slice(1)).toEqual(auto.events.slice(1)); // RunStarted differs only in how the mapping was found
    expect(spelled.events[0]!.value.event_id).toBe(auto.events[0]!.value.event_id);
  });

  it('its README JSON Lines example is one importable step', () => {
    const readme = readFileSync(join(EXAMPLE, 'README.md'), 'utf8');
    const line = /```json\n(.*)\n```/.exec(readme)?.[1];
    expect(line).toBeDefined();
    const rows = parseLog(line!, 'example.jsonl');
    const { events } = logToEvents(rows, resolveMapping(rows.columns, {}), { runId: 'r', name: 'r', source: 'example.jsonl', nowMs: 0 });
    expect(events[1]).toMatchObject({ name: 'StepMetrics', value: { step: 120, train_loss: 0.0412, train_acc: 0.998, test_loss: 3.91, test_acc: 0.061, lr: 0.001 } });
  });
});
