// Schema evolution: every released writer schema (history/) must stay readable by the current
// reader, and the bytes it wrote (test/fixtures/) must decode. An incompatible edit of a schema
// in avro/ makes this suite fail.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { EventCodec, fingerprintHex } from './codec.ts';
import { SCHEMAS_DIR, loadCurrentSchemas, loadHistory } from './catalog.ts';
import { schemaFingerprint } from './fingerprint.ts';
import type { EventName } from './events.generated.ts';

const current = loadCurrentSchemas();
const history = loadHistory();
const codec = new EventCodec(current, history);
const FIXTURES = join(SCHEMAS_DIR, 'test', 'fixtures');

type Field = { name: string; default?: unknown };

describe('schema evolution', () => {
  it('has every current schema frozen in history (run `pnpm --filter @grokstream/schemas freeze`)', () => {
    for (const { name, schema } of current) {
      const hex = fingerprintHex(schemaFingerprint(schema).fingerprint);
      expect(existsSync(join(SCHEMAS_DIR, 'history', name, `${hex}.avsc`)), `${name} ${hex} is not frozen`).toBe(true);
    }
  });

  it('keeps released schemas unedited: each file is named by its own fingerprint', () => {
    expect(history.length).toBeGreaterThanOrEqual(current.length);
    for (const { file, schema } of history) {
      expect(file.endsWith(`${fingerprintHex(schemaFingerprint(schema).fingerprint)}.avsc`), file).toBe(true);
    }
  });

  it.each(history.map((h) => [`${h.name} ${h.file.slice(-21, -5)}`, h] as const))(
    'decodes the fixture written by %s with the current reader',
    (_label, h) => {
      const hex = fingerprintHex(schemaFingerprint(h.schema).fingerprint);
      const bytes = readFileSync(join(FIXTURES, h.name, `${hex}.bin`));
      const decoded = codec.decode(bytes);
      expect(decoded.name).toBe(h.name);
      expect(decoded.writer).toBe(hex);
      // Field by field: what the writer wrote comes through; what it lacked takes the reader's default.
      const written = avro.Type.forSchema(h.schema as avro.Schema).fromBuffer(bytes.subarray(10)) as Record<string, unknown>;
      const reader = current.find((c) => c.name === h.name)!.schema.fields as Field[];
      const value = decoded.value as unknown as Record<string, unknown>;
      for (const f of reader) {
        if (f.name in written) expect(value[f.name], f.name).toEqual(written[f.name]);
        else expect(value[f.name], f.name).toEqual(f.default);
      }
    },
  );

  it('fails loudly when a change cannot read a released version', () => {
    const step = current.find((c) => c.name === 'StepMetrics')!;
    const fields = step.schema.fields as Field[];
    const broken = (mutate: (fields: Field[]) => Field[]) =>
      current.map((c) => (c === step ? { ...c, schema: { ...c.schema, fields: mutate(fields) } } : c));
    // A new field without a default: old bytes have no value for it.
    expect(() => new EventCodec(broken((f) => [...f, { name: 'brand_new', type: 'double' } as Field]), history)).toThrow(
      /cannot read this released version/,
    );
    // A changed type: string cannot be read as long.
    expect(
      () => new EventCodec(broken((f) => f.map((x) => (x.name === 'run_id' ? { ...x, type: 'long' } : x))), history),
    ).toThrow(/cannot read this released version/);
    // Adding a field with a default is fine.
    expect(
      () => new EventCodec(broken((f) => [...f, { name: 'fine', type: ['null', 'double'], default: null } as Field]), history),
    ).not.toThrow();
  });

  it('decodes the current version of every event without a resolver', () => {
    for (const { name } of current) {
      expect(codec.knownFingerprints()).toContain(codec.fingerprint(name as EventName));
    }
  });
});
