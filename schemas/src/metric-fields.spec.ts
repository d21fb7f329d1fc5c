import { describe, expect, it } from 'vitest';
import { loadCurrentSchemas } from './catalog.ts';
import { STEP_METRIC_FIELDS } from './metric-fields.ts';

describe('STEP_METRIC_FIELDS', () => {
  it('lists every scalar numeric field of StepMetrics except seq and step', () => {
    const schema = loadCurrentSchemas().find((s) => s.name === 'StepMetrics');
    expect(schema).toBeDefined();
    const numeric = (t: unknown): boolean =>
      t === 'double' || t === 'float' || (Array.isArray(t) && t.length === 2 && t.includes('null') && t.some((x) => x === 'double' || x === 'float'));
    const fields = (schema!.schema as { fields: { name: string; type: unknown }[] }).fields.filter((f) => numeric(f.type)).map((f) => f.name);
    expect([...STEP_METRIC_FIELDS].sort()).toEqual(fields.sort());
  });
});
