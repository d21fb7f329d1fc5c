import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { anyReplacementChar, replacementCheck } from './replacement-check.ts';
import { loadCurrentSchemas } from './catalog.ts';

const BAD = 'ab\uFFFDc';
const typeOf = (schema: unknown) => avro.Type.forSchema(schema as avro.Schema);

describe('replacementCheck', () => {
  it('a type with no strings has no check at all', () => {
    expect(replacementCheck(typeOf('double'))).toBeUndefined();
    expect(replacementCheck(typeOf({ type: 'record', name: 'N', fields: [{ name: 'x', type: 'long' }, { name: 'b', type: 'bytes' }, { name: 'e', type: { type: 'enum', name: 'E', symbols: ['A'] } }] }))).toBeUndefined();
    expect(replacementCheck(typeOf({ type: 'array', items: ['null', 'float'] }))).toBeUndefined();
  });

  it('finds U+FFFD in record fields, arrays, map keys and values, and unions', () => {
    const t = typeOf({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'n', type: 'double' },
        { name: 'maybe', type: ['null', 'string'], default: null },
        { name: 'tags', type: { type: 'array', items: 'string' } },
        { name: 'm', type: { type: 'map', values: 'int' } },
        { name: 'nested', type: ['null', { type: 'record', name: 'Inner', fields: [{ name: 's', type: 'string' }] }], default: null },
      ],
    });
    const check = replacementCheck(t)!;
    const good = { id: 'run', n: 1, maybe: null, tags: ['a'], m: { k: 1 }, nested: { s: 'x' } };
    expect(check(good)).toBe(false);
    for (const bad of [
      { ...good, id: BAD },
      { ...good, maybe: BAD },
      { ...good, tags: ['a', BAD] },
      { ...good, m: { [BAD]: 1 } },
      { ...good, nested: { s: BAD } },
    ]) {
      expect(check(bad)).toBe(true);
    }
  });

  it('agrees with the schema-less walk on every grokstream event, random values with and without U+FFFD', () => {
    for (const { name, schema } of loadCurrentSchemas()) {
      const t = typeOf(schema);
      const check = replacementCheck(t);
      for (let i = 0; i < 50; i++) {
        const v = t.random();
        expect(check?.(v) ?? false, name).toBe(anyReplacementChar(v));
      }
      // A value whose every string is U+FFFD: both find it, or neither (no strings).
      const all = t.fromBuffer(t.toBuffer(t.random()));
      const fill = (x: unknown): unknown =>
        typeof x === 'string' ? BAD : Array.isArray(x) ? x.map(fill) : x && typeof x === 'object' && !Buffer.isBuffer(x) ? Object.fromEntries(Object.entries(x).map(([k, y]) => [k, fill(y)])) : x;
      const filled = fill(all);
      expect(check?.(filled) ?? false, name).toBe(anyReplacementChar(filled));
    }
  });

  it('a recursive schema is checked all the way down', () => {
    const t = typeOf({ type: 'record', name: 'Node', fields: [{ name: 'label', type: 'string' }, { name: 'next', type: ['null', 'Node'], default: null }] });
    const check = replacementCheck(t)!;
    expect(check({ label: 'a', next: { label: 'b', next: null } })).toBe(false);
    expect(check({ label: 'a', next: { label: BAD, next: null } })).toBe(true);
  });
});
