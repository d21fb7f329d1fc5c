// Interop with the reference implementation: Apache Avro for Java (from Maven Central) computes the
// same CRC-64-AVRO fingerprints for every released schema and decodes our single-object messages,
// the current and the old versions alike. CI has Java and Maven already (the Kafka broker needs them).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_NAMES, EventCodec, fingerprintHex, loadCurrentSchemas, loadHistory, schemaFingerprint, type StepMetrics } from '@grokstream/schemas';
import { sampleValue } from '../../schemas/src/samples.ts';

const HERE = resolve('tests/interop/avro-java');
const LIB = join(HERE, 'lib');
const HISTORY = resolve('schemas/history');
const FIXTURES = resolve('schemas/test/fixtures');

describe('Apache Avro (Java) reads what we write', () => {
  const work = mkdtempSync(join(tmpdir(), 'grokstream-avro-java-'));
  let output = '';
  const codec = EventCodec.load();
  const messages: Record<string, string> = {};

  beforeAll(() => {
    if (!existsSync(join(LIB, '.resolved'))) {
      execFileSync('mvn', ['-q', '-B', '-Dstyle.color=never', '-f', join(HERE, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${LIB}`], {
        stdio: 'inherit',
        timeout: 300_000,
      });
      writeFileSync(join(LIB, '.resolved'), '');
    }
    execFileSync('javac', ['-cp', `${LIB}/*`, '-d', work, join(HERE, 'src', 'Interop.java')], { timeout: 120_000 });
    const schemas = loadCurrentSchemas();
    const files: string[] = [];
    for (const name of EVENT_NAMES) {
      const file = join(work, `${name}.bin`);
      writeFileSync(file, codec.encode(name, sampleValue(schemas.find((s) => s.name === name)!.schema, name) as never));
      files.push(file);
      messages[`${name}.bin`] = name;
    }
    const nonFinite: StepMetrics = {
      ...(sampleValue(schemas.find((s) => s.name === 'StepMetrics')!.schema, 'x') as StepMetrics),
      train_loss: NaN,
      test_loss: Infinity,
      test_acc: -Infinity,
      layer_norms: [],
      extra: {},
    };
    writeFileSync(join(work, 'nonfinite.bin'), codec.encode('StepMetrics', nonFinite));
    files.push(join(work, 'nonfinite.bin'));
    for (const h of loadHistory()) {
      const hex = fingerprintHex(schemaFingerprint(h.schema).fingerprint);
      files.push(join(FIXTURES, h.name, `${hex}.bin`));
    }
    output = execFileSync('java', ['-cp', `${LIB}/*:${work}`, 'Interop', HISTORY, ...files], { encoding: 'utf8', timeout: 120_000 });
  });

  it('computes the fingerprint we named every released schema by', () => {
    const lines = output.split('\n').filter((l) => l.startsWith('schema '));
    expect(lines).toHaveLength(loadHistory().length);
    for (const line of lines) {
      const [, path, fp] = line.split(' ');
      expect(path!.endsWith(`${fp}.avsc`), line).toBe(true);
    }
  });

  it('decodes a current message of every event type', () => {
    for (const [file, name] of Object.entries(messages)) {
      expect(output).toContain(`message ${file} dev.grokstream.events.${name} {`);
    }
  });

  // GenericData's toString quotes non-finite doubles (its JSON has no NaN literal).
  it('decodes NaN and infinities as such', () => {
    const line = output.split('\n').find((l) => l.startsWith('message nonfinite.bin'))!;
    expect(line).toContain('"train_loss": "NaN"');
    expect(line).toContain('"test_loss": "Infinity"');
    expect(line).toContain('"test_acc": "-Infinity"');
  });

  it('decodes every released fixture, old versions included', () => {
    const fixtureLines = output.split('\n').filter((l) => /^message [0-9a-f]{16}\.bin /.test(l));
    expect(fixtureLines).toHaveLength(loadHistory().length);
    for (const l of fixtureLines) expect(l).not.toContain('UNDECODABLE');
  });
});
