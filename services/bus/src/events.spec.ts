import { describe, expect, it } from 'vitest';
import { EventCodec, TOPICS, type DeadLetter, type RunFinished } from '@grokstream/schemas';
import { MemoryBus } from './memory-bus.ts';
import { EventPublisher, eventConsumer, type ReceivedEvent } from './events.ts';
import { partitionForKey } from './partitioner.ts';
import { standardTopics } from './topics.ts';
import { waitUntil } from './wait.ts';

const codec = EventCodec.load();
const finished = (run: string, seq: number): RunFinished => ({
  event_id: `${run}-${seq}`,
  run_id: run,
  seq,
  ts: 1,
  step: seq,
  reason: 'completed',
  command_id: null,
  error: null,
  summary: {},
});

describe('typed events on the bus', () => {
  it('keys every event by run_id', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics(standardTopics(4));
    const received: ReceivedEvent[] = [];
    const producer = await bus.producer();
    const consumer = eventConsumer(bus, {
      groupId: 'g',
      topics: [TOPICS.events],
      fromBeginning: true,
      codec,
      deadLetters: producer,
      handle: async (events) => void received.push(...events),
    });
    await consumer.start();
    await new EventPublisher(producer, codec).publish(TOPICS.events, [
      { name: 'RunFinished', value: finished('alpha', 1) },
      { name: 'RunFinished', value: finished('beta', 2) },
    ]);
    await waitUntil(() => received.length === 2, 'two events');
    for (const e of received) expect(e.partition).toBe(partitionForKey(e.value.run_id, 4));
    expect(received.map((e) => e.value)).toEqual(expect.arrayContaining([finished('alpha', 1), finished('beta', 2)]));
    await consumer.stop();
  });

  it('sends undecodable messages to the dead-letter topic with reason and bytes, and goes on', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics(standardTopics(1));
    const producer = await bus.producer();
    const received: ReceivedEvent[] = [];
    const letters: ReceivedEvent[] = [];
    const consumer = eventConsumer(bus, {
      groupId: 'ingest',
      topics: [TOPICS.events],
      fromBeginning: true,
      codec,
      deadLetters: producer,
      handle: async (events) => void received.push(...events),
    });
    const dlt = eventConsumer(bus, {
      groupId: 'watch',
      topics: [TOPICS.deadLetter],
      fromBeginning: true,
      codec,
      deadLetters: producer,
      handle: async (events) => void letters.push(...events),
    });
    await consumer.start();
    await dlt.start();
    const garbage = Buffer.from('definitely not avro');
    await producer.send(TOPICS.events, [{ key: 'gamma', value: garbage }]);
    await new EventPublisher(producer, codec).publish(TOPICS.events, [{ name: 'RunFinished', value: finished('gamma', 3) }]);
    await waitUntil(() => received.length === 1 && letters.length === 1, 'the event and the dead letter');
    const letter = letters[0]!.value as DeadLetter;
    expect(letters[0]!.name).toBe('DeadLetter');
    expect(letter).toMatchObject({
      run_id: 'gamma',
      source_topic: TOPICS.events,
      source_partition: 0,
      source_offset: 0,
      error_kind: 'bad-magic',
      consumer: 'ingest',
    });
    expect(letter.reason).toMatch(/not Avro single-object encoding/);
    expect(Buffer.compare(letter.payload, garbage)).toBe(0);
    expect(letter.key?.toString()).toBe('gamma');
    expect(received[0]!.value).toEqual(finished('gamma', 3));
    await consumer.stop();
    await dlt.stop();
  });

  it('does not dead-letter a message whose processing failed: it is delivered again', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics(standardTopics(1));
    const producer = await bus.producer();
    let attempts = 0;
    const consumer = eventConsumer(bus, {
      groupId: 'g',
      topics: [TOPICS.events],
      fromBeginning: true,
      codec,
      deadLetters: producer,
      handle: async () => {
        if (++attempts < 3) throw new Error('busy');
      },
    });
    await consumer.start();
    await new EventPublisher(producer, codec).publish(TOPICS.events, [{ name: 'RunFinished', value: finished('d', 1) }]);
    await waitUntil(() => attempts === 3, 'three attempts');
    expect((await bus.endOffsets(TOPICS.deadLetter))[0]!.offset).toBe('0');
    await consumer.stop();
  });
});
