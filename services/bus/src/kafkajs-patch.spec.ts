// grokstream patches kafkajs 2.2.4 (patches/kafkajs@2.2.4.patch) on its producer's hot path: the
// murmur2 partitioner in 32-bit arithmetic, varints written in place, pooled encoder buffers.
// The patched code must still speak the protocol byte for byte and hash keys as the Java client
// does (a key's partition is part of its order), so: the Java client's hash (partitioner.ts, held
// to the Java vectors) on random keys, and hand-encoded varints and records from the protocol guide.
// The record batch's CRC-32C comes from @node-rs/crc32: held to RFC 3720's vectors and to kafkajs's
// own byte-wise table. On the consumer's side, a record's offset and timestamp are computed in
// numbers where exact: held to 64-bit BigInt arithmetic, at and past the edges where Longs take over.
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

describe('patched kafkajs: record batch CRC-32C', () => {
  const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number;
  const tableCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (b: Buffer) => number;

  it('is the native one, resolved from where kafkajs is (not the fallback)', () => {
    const kafkajsRequire = createRequire(require.resolve('kafkajs/src/protocol/recordBatch/crc32C/index.js'));
    const native = (kafkajsRequire('@node-rs/crc32') as { crc32c: (b: Buffer) => number }).crc32c;
    const probe = Buffer.from('grokstream');
    expect(crc32C(probe)).toBe(native(probe) >>> 0);
  });

  it("gives RFC 3720's CRC-32C check values", () => {
    expect(crc32C(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32C(Buffer.alloc(32, 0x00))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    expect(crc32C(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43); // 32 bytes of ones
    expect(crc32C(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e); // incrementing
    expect(crc32C(Buffer.alloc(0))).toBe(0);
  });

  it("agrees with kafkajs's own table on 2,000 random buffers of 0 to 4,096 bytes, unsigned", () => {
    let seed = 99;
    const byte = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(Array.from({ length: (i * 37) % 4097 }, byte));
      const c = crc32C(b);
      expect(c).toBe(tableCrc32C(b));
      expect(c).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('patched kafkajs: record decoder offsets and timestamps', () => {
  type Dec = { readVarIntBytes(): Buffer };
  const Decoder = require('kafkajs/src/protocol/decoder.js') as { new (b: Buffer): Dec };
  const RecordDecoder = require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js') as (
    d: Dec,
    ctx: { firstOffset: string; firstTimestamp: string; maxTimestamp?: string; timestampType?: number; magicByte: number },
  ) => { offset: string; timestamp: string; key: Buffer | null; value: Buffer | null };

  /** Zigzag varint bytes of a 64-bit value, written from the protocol guide with BigInt. */
  const varlong = (v: bigint): number[] => {
    let z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    const out: number[] = [];
    while (z >= 0x80n) {
      out.push(Number(z & 0x7fn) | 0x80);
      z >>= 7n;
    }
    return [...out, Number(z)];
  };
  /** A whole record (length-prefixed) with these deltas, key 'k', value [7], no headers. */
  const record = (timestampDelta: bigint, offsetDelta: number): Buffer => {
    const body = [0, ...varlong(timestampDelta), ...varlong(BigInt(offsetDelta)), ...varlong(1n), 0x6b, ...varlong(1n), 7, 0];
    return Buffer.from([...varlong(BigInt(body.length)), ...body]);
  };
  const decode = (buf: Buffer, firstOffset: bigint, firstTimestamp: bigint, extra: { maxTimestamp?: string; timestampType?: number } = {}) =>
    RecordDecoder(new Decoder(new Decoder(buf).readVarIntBytes()), { firstOffset: String(firstOffset), firstTimestamp: String(firstTimestamp), magicByte: 2, ...extra });

  it('gives the offsets and timestamps 64-bit arithmetic gives, in numbers and past where numbers are exact', () => {
    const bases = [0n, 41n, 1_733_011_200_000n, 2n ** 53n - 10n, 2n ** 53n + 1n, 2n ** 62n, -1n];
    const tsDeltas = [0n, 1n, -1n, 63n, -64n, 2n ** 47n, -(2n ** 48n), 2n ** 48n, 2n ** 55n, -(2n ** 60n)];
    const offDeltas = [0, 1, 20, 499, 2 ** 31 - 1];
    let checked = 0;
    for (const base of bases) {
      for (const td of tsDeltas) {
        for (const od of offDeltas) {
          const r = decode(record(td, od), base, base);
          expect(r.offset).toBe(String(base + BigInt(od)));
          expect(r.timestamp).toBe(String(BigInt.asIntN(64, base + td)));
          expect(r.key?.toString()).toBe('k');
          expect([...r.value!]).toEqual([7]);
          checked++;
        }
      }
    }
    expect(checked).toBe(350);
  });

  it('reads the whole record, and leaves a log-append-time batch its broker timestamp', () => {
    const r = decode(record(5n, 3), 10n, 1000n, { maxTimestamp: '2000', timestampType: 1 });
    expect(r).toMatchObject({ offset: '13', timestamp: '2000' });
  });
});
