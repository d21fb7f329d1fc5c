// grokstream patches kafkajs 2.2.4 (patches/kafkajs@2.2.4.patch) on its producer's hot path: the
// murmur2 partitioner in 32-bit arithmetic, varints written in place, pooled encoder buffers.
// The patched code must still speak the protocol byte for byte and hash keys as the Java client
// does (a key's partition is part of its order), so: the Java client's hash (partitioner.ts, held
// to the Java vectors) on random keys, and hand-encoded varints and records from the protocol guide.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { murmur2 as javaMurmur2 } from './partitioner.ts';

const require = createRequire(import.meta.url);
const murmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer | string) => number;
type Enc = { buffer: Buffer; writeVarInt(v: number): Enc; writeVarLong(v: number): Enc };
const Encoder = require('kafkajs/src/protocol/encoder.js') as { new (size?: number): Enc; sizeOfVarLong(v: number): number; sizeOfVarInt(v: number): number };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: { key: Buffer | string | null; value: Buffer | null; offsetDelta?: number; timestampDelta?: number }) => Enc;

describe('patched kafkajs: murmur2 partitioner hash', () => {
  // partitioner.ts's murmur2 (the in-process bus's) is checked against the Java client's vectors
  // in partitioner.spec.ts; the patched kafkajs must agree with it everywhere.
  it("agrees with the Java client's hash on 5,000 random keys of 0 to 64 bytes, high bytes included", () => {
    let seed = 12345;
    const byte = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 5000; i++) {
      const key = Buffer.from(Array.from({ length: i % 65 }, byte));
      expect(murmur2(key)).toBe(javaMurmur2(key));
    }
    for (const key of ['21', 'foobar', 'abc', 'grok-2026-11-30-ab12cd34']) expect(murmur2(key)).toBe(javaMurmur2(Buffer.from(key)));
  });
});

describe('patched kafkajs: encoder', () => {
  const varint = (v: number) => [...new Encoder().writeVarInt(v).buffer];
  const varlong = (v: number) => [...new Encoder().writeVarLong(v).buffer];

  it('writes zigzag varints as the protocol says, at the edges of each byte count', () => {
    expect(varint(0)).toEqual([0x00]);
    expect(varint(-1)).toEqual([0x01]);
    expect(varint(1)).toEqual([0x02]);
    expect(varint(-64)).toEqual([0x7f]);
    expect(varint(64)).toEqual([0x80, 0x01]);
    expect(varint(300)).toEqual([0xd8, 0x04]);
    expect(varint(2147483647)).toEqual([0xfe, 0xff, 0xff, 0xff, 0x0f]);
    expect(varint(-2147483648)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
  });

  it('writes a varlong that fits 32 bits as that varint, and a wider one through 64-bit arithmetic', () => {
    for (const v of [0, -1, 1, 64, -65, 2147483647, -2147483648]) {
      expect(varlong(v), String(v)).toEqual(varint(v));
      expect(Encoder.sizeOfVarLong(v), String(v)).toBe(varint(v).length);
    }
    expect(varlong(2147483648)).toEqual([0x80, 0x80, 0x80, 0x80, 0x10]);
    expect(varlong(-(2 ** 40))).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0x3f]);
    expect(Encoder.sizeOfVarLong(-(2 ** 40))).toBe(6);
  });

  it('many varints in one encoder, past its first buffer: each in place, in order', () => {
    const e = new Encoder(1);
    const values = Array.from({ length: 500 }, (_, i) => (i % 2 ? -1 : 1) * i * 99991);
    for (const v of values) e.writeVarInt(v);
    expect([...e.buffer]).toEqual(values.flatMap(varint));
  });

  it('encodes a record byte for byte: length, attributes, deltas, key, value, no headers', () => {
    const r = Record({ key: 'k', value: Buffer.from([1, 2, 3]), offsetDelta: 2, timestampDelta: 0 });
    expect([...r.buffer]).toEqual([0x14, 0x00, 0x00, 0x04, 0x02, 0x6b, 0x06, 1, 2, 3, 0x00]);
    const nullKey = Record({ key: null, value: Buffer.from([9]), offsetDelta: 0, timestampDelta: 70 });
    expect([...nullKey.buffer]).toEqual([0x10, 0x00, 0x8c, 0x01, 0x00, 0x01, 0x02, 9, 0x00]);
  });
});
