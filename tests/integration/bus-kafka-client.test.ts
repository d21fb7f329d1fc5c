// KafkaBus against the real broker where kafkajs alone would not do: our byte count agrees with
// the broker's, a limit changed behind our back still gives the clear error, SASL reaches the
// broker, and kafkajs logs come out as readable lines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { KafkaBus, RecordTooLargeError } from '@grokstream/bus';
import { largestValueBytes, singleRecordBatchBytes } from '../../services/bus/src/request-size.ts';
import { KAFKA_BROKERS, requireKafka } from './services.ts';

beforeAll(requireKafka);

describe(`KafkaBus client behaviour against Kafka at ${KAFKA_BROKERS.join(',')}`, () => {
  const kafka = new Kafka({ brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING, clientId: 'bus-client-test' });
  let admin: Admin;
  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.disconnect();
  });

  const topicWithLimit = async (limit: number) => {
    const topic = `bus-client.${randomUUID().slice(0, 8)}`;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 1, replicationFactor: -1, configEntries: [{ name: 'max.message.bytes', value: String(limit) }] }],
    });
    return topic;
  };

  it('counts a record batch exactly as the broker does: at the limit it is taken, one byte more is refused', async () => {
    const topic = await topicWithLimit(65_536);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const fits = largestValueBytes('k', 65_536);
      expect(singleRecordBatchBytes({ key: 'k', value: Buffer.alloc(fits) })).toBe(65_536);
      // kafkajs alone, without our check: the broker is the judge.
      await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: Buffer.alloc(fits) }] });
      const refused = await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: Buffer.alloc(fits + 1) }] }).then(
        () => undefined,
        (e: unknown) => e as Error & { type?: string; cause?: { type?: string } },
      );
      expect(refused).toBeDefined();
      expect(`${refused!.type ?? ''} ${refused!.cause?.type ?? ''} ${refused!.message}`).toMatch(/MESSAGE_TOO_LARGE|larger than the max message size/);
    } finally {
      await producer.disconnect();
    }
  });

  it('gives the clear error when the topic limit was lowered after the producer looked it up', async () => {
    const topic = await topicWithLimit(65_536);
    const bus = new KafkaBus({ brokers: KAFKA_BROKERS, logLevel: 'nothing' });
    try {
      const p = await bus.producer();
      await p.send(topic, [{ key: 'k', value: Buffer.alloc(40_000) }]); // the limit is now known: 65,536
      await admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: 2, name: topic, configEntries: [{ name: 'max.message.bytes', value: '32768' }] }],
      });
      const err = await p.send(topic, [{ key: 'k', value: Buffer.alloc(40_000) }]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RecordTooLargeError);
      expect((err as Error).message).toContain(`for topic ${topic} is ${singleRecordBatchBytes({ key: 'k', value: Buffer.alloc(40_000) })} bytes`);
      expect((err as RecordTooLargeError).limit).toBe(32_768);
      await p.send(topic, [{ key: 'k', value: Buffer.alloc(30_000) }]);
      expect(await bus.endOffsets(topic)).toEqual([{ partition: 0, offset: '2' }]);
    } finally {
      await bus.close();
    }
  });

  it('passes SASL settings through to the broker, which answers this plaintext listener with a SASL error', async () => {
    const bus = new KafkaBus({ brokers: KAFKA_BROKERS, logLevel: 'nothing', sasl: { mechanism: 'plain', username: 'u', password: 'p' } });
    try {
      const err = await bus.ensureTopics([{ topic: `bus-client.${randomUUID().slice(0, 8)}`, partitions: 1 }]).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toContain(`Kafka at ${KAFKA_BROKERS.join(',')}`);
      expect(err?.message).toMatch(/SASL/);
    } finally {
      await bus.close().catch(() => {});
    }
  });

  it("writes kafkajs's log through our logger as readable lines", async () => {
    const lines: Array<{ level: string; line: string }> = [];
    const bus = new KafkaBus({ brokers: KAFKA_BROKERS, logLevel: 'debug', log: (level, line) => lines.push({ level, line }) });
    try {
      const p = await bus.producer();
      await p.close();
    } finally {
      await bus.close();
    }
    expect(lines.length).toBeGreaterThan(0);
    for (const { level, line } of lines) {
      expect(line.startsWith(`kafka ${level} [`)).toBe(true);
      expect(line).not.toMatch(/[{}]/);
    }
    expect(lines.some(({ line }) => line.includes(`(broker ${KAFKA_BROKERS[0]}`))).toBe(true);
  });
});
