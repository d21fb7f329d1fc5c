import { describe, expect, it } from 'vitest';
import { MessageKeys } from './message-keys.ts';
import { partitionForKey } from './partitioner.ts';

describe('MessageKeys', () => {
  it("gives a key's UTF-8 bytes, the same Buffer each time, and partitions as the string does", () => {
    const keys = new MessageKeys();
    for (const k of ['run-1', 'ünïcode-ключ-🔑', '']) {
      expect(keys.bytes(k).equals(Buffer.from(k, 'utf8'))).toBe(true);
      expect(keys.bytes(k)).toBe(keys.bytes(k));
      expect(partitionForKey(keys.bytes(k), 12)).toBe(partitionForKey(k, 12));
    }
  });

  it('stays bounded: past 4,096 keys it starts again', () => {
    const keys = new MessageKeys();
    for (let i = 0; i < 10_000; i++) expect(keys.bytes(`run-${i}`).toString()).toBe(`run-${i}`);
    expect(keys.size).toBeLessThanOrEqual(4096);
    expect(keys.size).toBeGreaterThan(0);
  });
});
