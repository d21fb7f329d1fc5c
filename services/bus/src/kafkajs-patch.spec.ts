// grokstream patches kafkajs 2.2.4 (patches/kafkajs@2.2.4.patch) on its producer's hot path: the
// murmur2 partitioner in 32-bit arithmetic, varints written in place, pooled encoder buffers, and
// a produce request's uncompressed record batches written record by record into one buffer of
// their size (each value copied once, not four times), with the request framed in place.
// The patched code must still speak the protocol byte for byte and hash keys as the Java client
// does (a key's partition is part of its order), so: the Java client's hash (partitioner.ts, held
// to the Java vectors) on random keys, hand-encoded varints, records and a batch from the protocol
// guide, and whole produce requests against kafkajs's own batch encoder (kept for compression).
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

describe('patched kafkajs: produce requests, uncompressed batches written in place', () => {
  type Msg = { key: Buffer | string | null; value: Buffer | null; timestamp?: number; headers?: Record<string, string | string[]> };
  type Part = { partition: number; firstSequence: number; messages: Msg[] };
  type Encoded = { buffer: Buffer; size(): number };
  const Long = require('kafkajs/src/utils/long.js') as { fromInt(v: number): unknown };
  const produceV3 = require('kafkajs/src/protocol/requests/produce/v3/request.js') as (r: {
    acks: number;
    timeout: number;
    transactionalId?: string | null;
    producerId: unknown;
    producerEpoch: number;
    compression?: number;
    topicData: { topic: string; partitions: Part[] }[];
  }) => { encode(): Promise<Encoded> };
  const frame = require('kafkajs/src/protocol/request.js') as (r: { correlationId: number; clientId: string | null; request: { apiKey: number; apiVersion: number; encode(): Promise<Encoded> } }) => Promise<Encoded>;
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch(b: Record<string, unknown>): Promise<Encoded> };
  const RecordBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: unknown) => Promise<{ records: { key: Buffer | null; value: Buffer | null; offset: string; timestamp: string; headers: Record<string, Buffer | Buffer[]> }[]; firstSequence: number; producerId: string; inTransaction: boolean }>;
  const Decoder = require('kafkajs/src/protocol/decoder.js') as { new (b: Buffer): { readInt32(): number; readInt16(): number; readString(): string; offset: number } };
  const tableCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (b: Buffer) => number;
  const T0 = 1_764_680_000_000;

  /** Messages of every shape: null keys and values, string keys, missing timestamps, headers (one repeated). */
  const messages = (n: number, salt: number): Msg[] =>
    Array.from({ length: n }, (_, i) => ({
      key: i % 7 === 0 ? null : i % 5 === 0 ? `run-${salt}-${i % 4}` : Buffer.from(`grok-${salt}-${i % 9}`),
      value: i % 31 === 30 ? null : Buffer.alloc(20 + ((i * 37 + salt) % 300), (i + salt) & 0xff),
      ...(i % 4 === 0 ? {} : { timestamp: T0 + i * 3 }),
      ...(i % 11 === 0 ? { headers: { h: 'x', multi: ['a', 'bé'] } } : {}),
    }));
  const partitions = (salt: number): Part[] => [0, 1, 2].map((p) => ({ partition: p, firstSequence: 1000 * p + salt, messages: messages(40 + 17 * p, salt + p) }));

  /** A partition's entry as kafkajs writes it with its own batch encoder: a record encoder each, copied in. */
  const expectedEntry = async ({ partition, firstSequence, messages: ms }: Part, transactional: boolean, now: number) => {
    const stamps = ms.map((m) => m.timestamp).filter((t): t is number => t != null).sort();
    const first = stamps[0] ?? now;
    const records = ms.map((m, i) => Record({ key: m.key, value: m.value, headers: m.headers, offsetDelta: i, timestampDelta: (m.timestamp || now) - first } as never));
    const batch = await RecordBatch({ compression: 0, records, firstTimestamp: first, maxTimestamp: stamps.at(-1) ?? now, producerId: Long.fromInt(12), producerEpoch: 3, firstSequence, transactional, lastOffsetDelta: ms.length - 1 });
    return Buffer.concat([int32(partition), int32(batch.size()), batch.buffer]);
  };
  const int32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    return b;
  };
  const str = (s: string | null) => {
    if (s === null) return Buffer.from([0xff, 0xff]);
    const b = Buffer.from(s);
    const len = Buffer.alloc(2);
    len.writeInt16BE(b.length);
    return Buffer.concat([len, b]);
  };

  it('writes whole requests byte for byte as kafkajs with its own batch encoder, transactional or not', async () => {
    const realNow = Date.now;
    Date.now = () => T0 + 99; // messages without a timestamp take the request's now
    try {
      for (const transactionalId of [null, 'txn-é']) {
        const topicData = [
          { topic: 'grokstream.events', partitions: partitions(1) },
          { topic: 'other', partitions: partitions(2).slice(0, 1) },
        ];
        const got = (await produceV3({ acks: -1, timeout: 30_000, transactionalId, producerId: Long.fromInt(12), producerEpoch: 3, topicData }).encode()).buffer;
        const topics = [];
        for (const { topic, partitions: ps } of topicData) {
          const entries = [];
          for (const p of ps) entries.push(await expectedEntry(p, transactionalId !== null, T0 + 99));
          topics.push(Buffer.concat([str(topic), int32(entries.length), ...entries]));
        }
        const want = Buffer.concat([str(transactionalId), Buffer.from([0xff, 0xff]), int32(30_000), int32(topics.length), ...topics]);
        expect(got.equals(want), `transactionalId ${transactionalId}`).toBe(true);
      }
    } finally {
      Date.now = realNow;
    }
  });

  it('writes a one-record batch as the protocol guide lays it out, its CRC-32C over attributes onward', async () => {
    const got = (await produceV3({ acks: 1, timeout: 5, producerId: Long.fromInt(7), producerEpoch: 2, topicData: [{ topic: 't', partitions: [{ partition: 5, firstSequence: 9, messages: [{ key: 'k', value: Buffer.from([1, 2, 3]), timestamp: T0 }] }] }] }).encode()).buffer;
    const record = [0x14, 0x00, 0x00, 0x00, 0x02, 0x6b, 0x06, 1, 2, 3, 0x00]; // length 10, attributes, deltas 0, key 'k', value, no headers
    const body = Buffer.concat([
      Buffer.from([0, 0]), // attributes: no compression, create time, not transactional
      int32(0), // lastOffsetDelta
      Buffer.from([0, 0, 0x01, 0x9a, 0xdf, 0x1f, 0xe2, 0x00]), // firstTimestamp T0
      Buffer.from([0, 0, 0x01, 0x9a, 0xdf, 0x1f, 0xe2, 0x00]), // maxTimestamp T0
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 7]), // producerId
      Buffer.from([0, 2]), // producerEpoch
      int32(9), // firstSequence
      int32(1), // one record
      Buffer.from(record),
    ]);
    expect(body.readBigInt64BE(6)).toBe(BigInt(T0));
    const batch = Buffer.concat([int32(0), Buffer.from([2]), int32(0), body]); // leader epoch, magic 2, CRC below
    batch.writeUInt32BE(tableCrc32C(body), 5);
    const entry = Buffer.concat([Buffer.alloc(8), int32(batch.length), batch]); // firstOffset 0
    const want = Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.from([0, 1]), int32(5), int32(1), str('t'), int32(1), int32(5), int32(entry.length), entry]);
    expect([...got]).toEqual([...want]);
  });

  it("decodes back with kafkajs's consumer-side batch decoder: keys, values, headers, offsets, timestamps", async () => {
    const part = partitions(3)[2]!;
    const got = (await produceV3({ acks: -1, timeout: 1, producerId: Long.fromInt(12), producerEpoch: 0, topicData: [{ topic: 't', partitions: [part] }] }).encode()).buffer;
    const d = new Decoder(got);
    d.readInt16(); // transactional id (null)
    d.readInt16();
    d.readInt32();
    d.readInt32(); // one topic
    expect(d.readString()).toBe('t');
    d.readInt32(); // one partition
    expect(d.readInt32()).toBe(part.partition);
    const size = d.readInt32();
    expect(got.length - d.offset).toBe(size);
    const batch = await RecordBatchDecoder(new Decoder(got.subarray(d.offset)));
    expect(batch.firstSequence).toBe(part.firstSequence);
    expect(batch.records).toHaveLength(part.messages.length);
    const first = Math.min(...part.messages.map((m) => m.timestamp ?? Infinity));
    batch.records.forEach((r, i) => {
      const m = part.messages[i]!;
      expect(r.offset).toBe(String(i));
      expect(r.key === null ? null : r.key.toString()).toBe(m.key === null ? null : m.key.toString());
      expect(r.value === null ? null : [...r.value]).toEqual(m.value === null ? null : [...m.value]);
      if (m.timestamp !== undefined) expect(r.timestamp).toBe(String(m.timestamp));
      else expect(Number(r.timestamp)).toBeGreaterThanOrEqual(first);
      if (m.headers) expect(r.headers.multi).toHaveLength(2);
    });
  });

  it('frames a request in place: its length in front, then key, version, correlation id and client id', async () => {
    const Writer = Encoder as unknown as { new (): { writeBuffer(b: Buffer): Encoded } };
    const payload = { encode: async () => new Writer().writeBuffer(Buffer.from([9, 8, 7])) };
    for (const clientId of ['grokstream-é', null]) {
      const got = (await frame({ correlationId: 42, clientId, request: { apiKey: 0, apiVersion: 3, ...payload } })).buffer;
      const rest = Buffer.concat([Buffer.from([0, 0, 0, 3]), int32(42), str(clientId), Buffer.from([9, 8, 7])]);
      expect([...got]).toEqual([...int32(rest.length), ...rest]);
    }
  });
});
