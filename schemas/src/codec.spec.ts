import { describe, expect, it } from 'vitest';
import { EventCodec } from './codec.ts';
import { DecodeError, EncodeError } from './errors.ts';
import { loadCurrentSchemas } from './catalog.ts';
import { sampleValue } from './samples.ts';
import { crc64Avro } from './fingerprint.ts';
import { parsingCanonicalForm } from './canonical.ts';
import { EVENT_NAMES, type EventName, type StepMetrics, type ProbeSummary } from './events.generated.ts';

const codec = EventCodec.load();
const schemas = loadCurrentSchemas();

/** Small deterministic PRNG so a failure can be replayed. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function sample<N extends EventName>(name: N) {
  const schema = schemas.find((s) => s.name === name)!.schema;
  return sampleValue(schema, name) as never;
}

const step: StepMetrics = {
  event_id: '6a1f3c1e-0000-4000-8000-000000000001',
  run_id: 'run-1',
  seq: 12,
  ts: 1_763_900_000_000,
  step: 11,
  train_loss: NaN,
  train_acc: null,
  test_loss: Infinity,
  test_acc: -Infinity,
  lr: 3e-3,
  weight_norm: 12.5,
  layer_norms: [NaN, Infinity, -Infinity, 0, -0, Number.MIN_VALUE, Number.MAX_VALUE],
  grad_norm_sq: null,
  update_norm: 1e-300,
  softmax_collapse_frac: 0,
  last_layer_norm: null,
  init_distance: 5e-324,
  extra: { nan: NaN, inf: Infinity, ninf: -Infinity },
};

function expectDecodeError(bytes: Uint8Array, kind?: DecodeError['kind']) {
  let caught: unknown;
  try {
    codec.decode(bytes);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DecodeError);
  if (kind) expect((caught as DecodeError).kind).toBe(kind);
}

describe('EventCodec', () => {
  it('knows every event of the schema directory', () => {
    expect([...EVENT_NAMES]).toEqual(schemas.map((s) => s.name));
  });

  it.each(EVENT_NAMES)('round-trips a %s', (name) => {
    const value = sample(name);
    const decoded = codec.decode(codec.encode(name, value));
    expect(decoded.name).toBe(name);
    expect(decoded.value).toEqual(value);
  });

  it('writes the single-object header: C3 01 and the little-endian CRC-64-AVRO of the canonical form', () => {
    for (const { name, schema } of schemas) {
      const bytes = codec.encode(name as EventName, sample(name as EventName));
      expect([bytes[0], bytes[1]]).toEqual([0xc3, 0x01]);
      const fp = crc64Avro(Buffer.from(parsingCanonicalForm(schema), 'utf8'));
      expect(bytes.readBigUInt64LE(2)).toBe(fp);
      expect(codec.fingerprint(name as EventName)).toBe(fp);
    }
  });

  it('keeps NaN, +Inf, -Inf, -0 and extreme doubles exactly', () => {
    const back = codec.decode(codec.encode('StepMetrics', step)).value as StepMetrics;
    expect(back).toEqual(step);
    expect(Object.is(back.layer_norms[4], -0)).toBe(true);
  });

  it('keeps empty arrays and maps', () => {
    const probe: ProbeSummary = {
      ...(sample('ProbeSummary') as ProbeSummary),
      gop: [{ scope: 'model', trace: NaN, frobenius: 0, spectral: Infinity, top_eigs: [], effective_rank: 1, numerical_rank: 0, condition_number: -Infinity }],
      extra: {},
    };
    expect(codec.decode(codec.encode('ProbeSummary', probe)).value).toEqual(probe);
    const empty = { ...step, layer_norms: [], extra: {} };
    expect(codec.decode(codec.encode('StepMetrics', empty)).value).toEqual(empty);
  });

  it('keeps every message intact while later ones share its slab, including one larger than a slab and after a failed encode', () => {
    const c = EventCodec.load();
    const values = Array.from({ length: 2000 }, (_, i) => ({
      ...step,
      step: i,
      run_id: `run-${i % 7}`,
      // Every 500th event far larger than a 64 KiB slab; the rest a few hundred bytes.
      extra: i % 500 === 499 ? Object.fromEntries(Array.from({ length: 6000 }, (_, k) => [`key_${k}`, k + i])) : { i },
    }));
    const encoded = values.map((v, i) => {
      if (i % 300 === 0) expect(() => c.encode('StepMetrics', { ...v, step: 'x' } as unknown as StepMetrics)).toThrow(EncodeError);
      return c.encode('StepMetrics', v);
    });
    // Decoded only after all were encoded: a later message written over an earlier one shows here.
    encoded.forEach((bytes, i) => expect(c.decode(bytes).value).toEqual(values[i]));
    expect(encoded[499]!.length).toBeGreaterThan(64 * 1024);
    expect(new Set(encoded.slice(0, 100).map((b) => b.buffer)).size).toBeLessThan(10);
  });

  it('names the field when a value does not fit its schema', () => {
    const bad = { ...step, step: 'eleven' } as unknown as StepMetrics;
    expect(() => codec.encode('StepMetrics', bad)).toThrow(EncodeError);
    expect(() => codec.encode('StepMetrics', bad)).toThrow(/step: "eleven" is not a valid long/);
    const { lr: _, ...missing } = step;
    expect(() => codec.encode('StepMetrics', missing as StepMetrics)).toThrow(/lr/);
  });

  it('rejects a wrong magic, a short header and an unknown fingerprint with typed errors', () => {
    const good = codec.encode('StepMetrics', step);
    expectDecodeError(Buffer.from([0x7b, 0x22, ...good.subarray(2)]), 'bad-magic');
    expectDecodeError(Buffer.alloc(0), 'truncated');
    expectDecodeError(good.subarray(0, 1), 'truncated');
    expectDecodeError(good.subarray(0, 9), 'truncated');
    const unknown = Buffer.from(good);
    unknown[2]! ^= 0xff;
    expectDecodeError(unknown, 'unknown-fingerprint');
  });

  it('rejects every truncation of a message, never returning a partial value', () => {
    for (const name of EVENT_NAMES) {
      const good = codec.encode(name, sample(name));
      for (let cut = 0; cut < good.length; cut++) expectDecodeError(good.subarray(0, cut));
    }
  });

  it('rejects trailing bytes', () => {
    const good = codec.encode('StepMetrics', step);
    expectDecodeError(Buffer.concat([good, Buffer.from([0])]), 'trailing-bytes');
  });

  it('rejects a string that is not valid UTF-8', () => {
    const good = codec.encode('Checkpointed', {
      event_id: 'e',
      run_id: 'AAAA',
      seq: 0,
      ts: 0,
      step: 1,
      uri: 'file:///x',
      bytes: 1,
      sha256: null,
    });
    const bad = Buffer.from(good);
    const at = bad.indexOf(Buffer.from('AAAA'));
    bad[at] = 0xff; // a lone continuation byte
    expectDecodeError(bad, 'malformed-body');
  });

  // Single-object encoding has no checksum of its own (Kafka's record-batch CRC guards transport),
  // so a flipped bit inside a number can decode as another number. What we promise: a typed error
  // or a value that is valid for the schema, with no invalid UTF-8 smuggled in as U+FFFD.
  it('never crashes, and returns only valid values, on random and corrupted input', () => {
    const rand = prng(42);
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
    let decodedSome = 0;
    const check = (input: Buffer) => {
      let decoded: ReturnType<EventCodec['decode']> | undefined;
      try {
        decoded = codec.decode(input);
      } catch (err) {
        expect(err).toBeInstanceOf(DecodeError);
        return;
      }
      decodedSome++;
      expect(codec.type(decoded.name).isValid(decoded.value)).toBe(true);
      expect(JSON.stringify(decoded.value)).not.toContain('\uFFFD');
      expect(codec.decode(codec.encode(decoded.name, decoded.value as never)).value).toEqual(decoded.value);
    };
    for (let i = 0; i < 2000; i++) check(bytes(Math.floor(rand() * 64)));
    const headers = EVENT_NAMES.map((n) => codec.encode(n, sample(n)).subarray(0, 10));
    for (let i = 0; i < 3000; i++) {
      check(Buffer.concat([headers[i % headers.length]!, bytes(Math.floor(rand() * 200))]));
    }
    for (const name of EVENT_NAMES) {
      const good = codec.encode(name, sample(name));
      for (let bit = 10 * 8; bit < good.length * 8; bit++) {
        const flipped = Buffer.from(good);
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        check(flipped);
      }
    }
    // Some bit flips land in doubles and decode to other doubles: proof the checks above ran.
    expect(decodedSome).toBeGreaterThan(0);
  });
});
