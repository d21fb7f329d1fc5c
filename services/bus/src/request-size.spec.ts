import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { OutgoingMessage } from './bus.ts';
import {
  BATCH_OVERHEAD_BYTES,
  DEFAULT_MAX_REQUEST_BYTES,
  checkMaxRequestBytes,
  firstTooLarge,
  largestValueBytes,
  maxMessageBytesOf,
  recordBytes,
  singleRecordBatchBytes,
  splitBySize,
  varintBytes,
} from './request-size.ts';

const msg = (key: string | null, size: number): OutgoingMessage => ({ key, value: Buffer.alloc(size) });

describe('request sizes, as a Kafka broker counts them', () => {
  it('sizes zigzag varints', () => {
    expect([0, -1, 1, 63, -64, 64, 8191, 8192, 1_048_575, 1_048_576].map(varintBytes)).toEqual([1, 1, 1, 1, 1, 2, 2, 3, 3, 4]);
  });

  it('counts a single-record batch exactly: 61-byte header plus the record', () => {
    // Record length 1, then attributes 1, timestamp delta 1, offset delta 1, key length 1 + "k",
    // value length 1 + "abc", header count 1.
    expect(singleRecordBatchBytes({ key: 'k', value: Buffer.from('abc') })).toBe(BATCH_OVERHEAD_BYTES + 1 + 10);
    // A null key is length -1, with no bytes.
    expect(singleRecordBatchBytes({ key: null, value: Buffer.alloc(0) })).toBe(BATCH_OVERHEAD_BYTES + 1 + 6);
    // A multi-byte key counts in bytes, not characters.
    expect(singleRecordBatchBytes(msg('é', 0)) - singleRecordBatchBytes(msg('e', 0))).toBe(1);
  });

  it('finds the largest value that fits a limit', () => {
    for (const limit of [100, 65_536, 1_048_588, 8 * 1024 * 1024]) {
      const v = largestValueBytes('run-1', limit);
      expect(singleRecordBatchBytes(msg('run-1', v))).toBeLessThanOrEqual(limit);
      expect(singleRecordBatchBytes(msg('run-1', v + 1))).toBeGreaterThan(limit);
    }
    expect(largestValueBytes('k', 10)).toBeLessThan(0);
  });

  it('splits in order into chunks within the budget, a too-big message alone', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 200 }), fc.integer({ min: 1024, max: 20_000 }), (sizes, budget) => {
        const messages = sizes.map((s, i) => msg(`k${i % 3}`, s));
        const chunks = splitBySize(messages, budget);
        expect(chunks.flat()).toEqual(messages);
        for (const c of chunks) {
          expect(c.length).toBeGreaterThan(0);
          const bytes = BATCH_OVERHEAD_BYTES + c.reduce((sum, m) => sum + recordBytes(m), 0);
          if (c.length > 1) expect(bytes).toBeLessThanOrEqual(budget);
        }
        // Greedy: no chunk could have taken the next one's first message.
        for (let i = 0; i + 1 < chunks.length; i++) {
          const bytes = BATCH_OVERHEAD_BYTES + [...chunks[i]!, chunks[i + 1]![0]!].reduce((sum, m) => sum + recordBytes(m), 0);
          expect(bytes).toBeGreaterThan(budget);
        }
      }),
    );
  });

  it('names the first message over the limit', () => {
    const err = firstTooLarge('t', [msg('k', 10), msg('k', 200), msg('k', 300)], 250);
    expect(err?.index).toBe(1);
    expect(err?.message).toMatch(/^message 1 for topic t is \d+ bytes as a record batch, over the topic's max.message.bytes of 250/);
    expect(firstTooLarge('t', [msg('k', 10)], 250)).toBeUndefined();
  });

  it('validates options and topic configs', () => {
    expect(checkMaxRequestBytes(undefined)).toBe(DEFAULT_MAX_REQUEST_BYTES);
    expect(() => checkMaxRequestBytes(100)).toThrow(/at least 1024/);
    expect(() => checkMaxRequestBytes(2000.5)).toThrow(/integer/);
    expect(maxMessageBytesOf('t', { 'max.message.bytes': '8388608' })).toBe(8_388_608);
    expect(maxMessageBytesOf('t', {})).toBeUndefined();
    expect(() => maxMessageBytesOf('t', { 'max.message.bytes': '1MB' })).toThrow(/topic t: max.message.bytes must be a positive integer, got "1MB"/);
  });
});
