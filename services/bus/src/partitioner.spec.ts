import { describe, expect, it } from 'vitest';
import { Partitioners } from 'kafkajs';
import { murmur2, partitionForKey } from './partitioner.ts';

describe('partitionForKey', () => {
  it('matches the murmur2 values of the Java client', () => {
    // Vectors from Apache Kafka's UtilsTest.testMurmur2.
    const cases: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, expected] of cases) expect(murmur2(Buffer.from(key))).toBe(expected);
  });

  it('chooses the partition kafkajs chooses, for many keys and partition counts', () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    for (const n of [1, 2, 3, 4, 7, 12, 64]) {
      const partitionMetadata = Array.from({ length: n }, (_, i) => ({
        partitionId: i,
        leader: 0,
        partitionErrorCode: 0,
        replicas: [0],
        isr: [0],
      }));
      for (let i = 0; i < 300; i++) {
        const key = `run-${i}-${(i * 7919).toString(36)}`;
        expect(partitionForKey(key, n)).toBe(kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } }));
      }
    }
  });
});
