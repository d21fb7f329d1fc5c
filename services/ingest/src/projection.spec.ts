import { describe, expect, it } from 'vitest';
import { EVENT_NAMES, loadCurrentSchemas, type AnyEvent, type StepMetrics } from '@grokstream/schemas';
import { encodeRows, insertColumns } from '@grokstream/store';
import { sampleValue } from '../../../schemas/src/samples.ts';
import { project, projectBatch } from './projection.ts';
import { INGEST_EVENTS } from './ingest.ts';

const schemas = loadCurrentSchemas();
const sample = (name: string) => ({ name, value: sampleValue(schemas.find((s) => s.name === name)!.schema, name) }) as AnyEvent;

describe('projection', () => {
  const stored = EVENT_NAMES.filter((n) => INGEST_EVENTS.has(n) && n !== 'DetectorProgress');

  it('stores every event but the sweeps topic\'s work items, which it refuses by name', () => {
    expect(EVENT_NAMES.filter((n) => !INGEST_EVENTS.has(n))).toEqual(['SweepPoint']);
    expect(() => project(sample('SweepPoint'))).toThrow(/is work for grokstream worker on the sweeps topic/);
  });

  it('takes a DetectorProgress off the control topic (not dead-lettered) and stores nothing of it: flow control', () => {
    expect(INGEST_EVENTS.has('DetectorProgress')).toBe(true);
    expect(() => project(sample('DetectorProgress'))).toThrow(/is flow control for the trainer; ingest does not store it/);
    const step = sample('StepMetrics');
    expect([...projectBatch([sample('DetectorProgress'), step, sample('DetectorProgress')])]).toEqual([['steps', [project(step).row]]]);
  });

  it.each(stored)('maps a %s onto every insert column of its table, and nothing else', (name) => {
    const { table, row } = project(sample(name));
    expect(Object.keys(row).sort()).toEqual(insertColumns(table).sort());
    expect(() => encodeRows(table, [row])).not.toThrow();
  });

  it('sends each event type to its own table', () => {
    const tables = stored.map((n) => project(sample(n)).table);
    expect(new Set(tables).size).toBe(stored.length);
  });

  it('splits maps into sorted parallel arrays and GOP summaries into arrays per scope', () => {
    const step = sample('StepMetrics') as { name: 'StepMetrics'; value: StepMetrics };
    step.value.extra = { zeta: 1, alpha: NaN };
    expect(project(step).row).toMatchObject({ extra_keys: ['alpha', 'zeta'], extra_values: [NaN, 1] });
    const probe = sample('ProbeSummary');
    const row = project(probe).row;
    expect(row.gop_scope).toHaveLength((probe.value as { gop: unknown[] }).gop.length);
    expect(Array.isArray((row.gop_top_eigs as unknown[])[0])).toBe(true);
  });

  it('groups a batch by table in arrival order', () => {
    const a = sample('StepMetrics');
    const b = sample('RunStarted');
    const c = { ...sample('StepMetrics') } as AnyEvent;
    (c.value as StepMetrics).step = 999;
    const grouped = projectBatch([a, b, c]);
    expect([...grouped.keys()]).toEqual(['steps', 'runs']);
    expect(grouped.get('steps')!.map((r) => r.step)).toEqual([(a.value as StepMetrics).step, 999]);
  });
});
