import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsingCanonicalForm } from './canonical.ts';
import { EMPTY, crc64Avro, fingerprintBytesLE } from './fingerprint.ts';
import { SCHEMAS_DIR } from './catalog.ts';

interface Case {
  id: string;
  input: string;
  canonical: string;
  fingerprint?: bigint;
}

/** Parses Apache Avro's schema-tests.txt: "// NNN" cases of <<INPUT, <<canonical, <<fingerprint. */
function parseVectors(text: string): Case[] {
  const lines = text.split('\n');
  const cases: Case[] = [];
  let current: Partial<Case> = {};
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const id = /^\/\/ (\d{3})$/.exec(line);
    if (id) {
      current = { id: id[1] };
      cases.push(current as Case);
    } else if (line === '<<INPUT') {
      const body: string[] = [];
      while (lines[++i] !== 'INPUT') body.push(lines[i]!);
      current.input = body.join('\n');
    } else if (line.startsWith('<<INPUT ')) {
      current.input = line.slice('<<INPUT '.length);
    } else if (line.startsWith('<<canonical ')) {
      current.canonical = line.slice('<<canonical '.length);
    } else if (line.startsWith('<<fingerprint ')) {
      current.fingerprint = BigInt(line.slice('<<fingerprint '.length));
    }
  }
  return cases;
}

const text = readFileSync(join(SCHEMAS_DIR, 'test', 'vectors', 'schema-tests.txt'), 'utf8');
const cases = parseVectors(text);

describe('Parsing Canonical Form and CRC-64-AVRO (Apache Avro schema-tests.txt)', () => {
  it('reads every case in the vector file', () => {
    expect(cases).toHaveLength((text.match(/^\/\/ \d{3}$/gm) ?? []).length);
    expect(cases.length).toBe(34);
    for (const c of cases) {
      expect(c.input, c.id).toBeDefined();
      expect(c.canonical, c.id).toBeDefined();
    }
    expect(cases.filter((c) => c.fingerprint !== undefined)).toHaveLength(26);
  });

  it.each(cases.map((c) => [c.id, c] as const))('case %s: canonical form and fingerprint', (_id, c) => {
    expect(parsingCanonicalForm(JSON.parse(c.input))).toBe(c.canonical);
    if (c.fingerprint !== undefined) {
      expect(BigInt.asIntN(64, crc64Avro(Buffer.from(c.canonical, 'utf8')))).toBe(c.fingerprint);
    }
  });

  it('fingerprints the empty input as EMPTY, and writes fingerprints little-endian', () => {
    expect(crc64Avro(new Uint8Array())).toBe(EMPTY);
    expect(Buffer.from(fingerprintBytesLE(0x0102030405060708n)).toString('hex')).toBe('0807060504030201');
  });

  it('strips logical types and resolves nested names against the enclosing namespace', () => {
    const schema = {
      type: 'record',
      name: 'Outer',
      namespace: 'a.b',
      doc: 'dropped',
      fields: [
        { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
        { name: 'inner', type: { type: 'record', name: 'Inner', fields: [] } },
        { name: 'again', type: 'Inner' },
        { name: 'other', type: { type: 'enum', name: 'c.E', symbols: ['X'] } },
      ],
    };
    expect(parsingCanonicalForm(schema)).toBe(
      '{"name":"a.b.Outer","type":"record","fields":[{"name":"ts","type":"long"},' +
        '{"name":"inner","type":{"name":"a.b.Inner","type":"record","fields":[]}},' +
        '{"name":"again","type":"a.b.Inner"},' +
        '{"name":"other","type":{"name":"c.E","type":"enum","symbols":["X"]}}]}',
    );
  });

  it('names the problem in a malformed schema', () => {
    expect(() => parsingCanonicalForm({ type: 'record', fields: [] })).toThrow(/needs a "name"/);
    expect(() => parsingCanonicalForm({ name: 'x' })).toThrow(/without "type"/);
    expect(() => parsingCanonicalForm(42)).toThrow(/not an Avro schema/);
    expect(() =>
      parsingCanonicalForm({ type: 'record', name: 'R', fields: [{ name: 'a', type: { type: 'fixed', name: 'R', size: 1 } }] }),
    ).toThrow(/defined twice/);
  });
});
