import { describe, expect, it } from 'vitest';
import { DecodeError, EventCodec, TOPICS, type AnyEvent, type DeadLetter, type RunFinished } from '@grokstream/schemas';
import type { BusMessage, OutgoingMessage, Producer } from './bus.ts';
import { MemoryBus } from './memory-bus.ts';
import { EventPublisher, backoffDelay, deadLetterFor, eventConsumer, type EventConsumerOptions, type ReceivedEvent } from './events.ts';
import { readAll } from './read-all.ts';
import { singleRecordBatchBytes } from './request-size.ts';
import { partitionForKey } from './partitioner.ts';
import { standardTopics } from './topics.ts';
import { waitUntil } from './wait.ts';
import { deadLetterAcceptance } from './dead-letters.acceptance.ts';

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

/** A consumer of the events topic with these options, and a watch on the dead-letter topic. */
async function consumerWithLetters(options: Pick<EventConsumerOptions, 'groupId' | 'accepts' | 'check'>) {
  const bus = new MemoryBus();
  await bus.ensureTopics(standardTopics(1));
  const producer = await bus.producer();
  const received: ReceivedEvent[] = [];
  const letters: ReceivedEvent[] = [];
  const consumer = eventConsumer(bus, { ...options, topics: [TOPICS.events], fromBeginning: true, codec, deadLetters: producer, handle: async (events) => void received.push(...events) });
  const dlt = eventConsumer(bus, { groupId: 'watch', topics: [TOPICS.deadLetter], fromBeginning: true, codec, deadLetters: producer, handle: async (events) => void letters.push(...events) });
  await consumer.start();
  await dlt.start();
  return {
    received,
    letters,
    publish: (events: AnyEvent[]) => new EventPublisher(producer, codec).publish(TOPICS.events, events),
    stop: async () => {
      await consumer.stop();
      await dlt.stop();
    },
  };
}

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

  it('dead-letters a well-formed event its topics should not carry (accepts), and goes on', async () => {
    const { received, letters, publish, stop } = await consumerWithLetters({ groupId: 'ingest', accepts: new Set(['RunFinished']) });
    const point = {
      event_id: 'p',
      run_id: 's-p0',
      seq: 0,
      ts: 1,
      sweep_id: 's',
      point_index: 0,
      point_count: 1,
      overrides: ['a=1'],
      config_json: '{}',
      config_hash: 'h',
      checkpoint_dir: null,
    };
    await publish([
      { name: 'SweepPoint', value: point },
      { name: 'RunFinished', value: finished('s-p0', 1) },
    ]);
    await waitUntil(() => received.length === 1 && letters.length === 1, 'the event and the dead letter');
    expect(letters[0]!.value).toMatchObject({ run_id: 's-p0', error_kind: 'unexpected-event', consumer: 'ingest', source_offset: 0 });
    expect((letters[0]!.value as DeadLetter).reason).toBe(`a SweepPoint on ${TOPICS.events}, where ingest takes RunFinished`);
    expect(received.map((e) => e.name)).toEqual(['RunFinished']);
    await stop();
  });

  it('dead-letters an event its check refuses as invalid-event, once, and hands the rest on', async () => {
    let checked = 0;
    const { received, letters, publish, stop } = await consumerWithLetters({
      groupId: 'workers',
      check: (e) => (checked++, e.name === 'RunFinished' && e.value.step === 13 ? 'step 13 is unlucky' : undefined),
    });
    await publish([
      { name: 'RunFinished', value: finished('a', 12) },
      { name: 'RunFinished', value: finished('b', 13) },
      { name: 'RunFinished', value: finished('c', 14) },
    ]);
    await waitUntil(() => received.length === 2 && letters.length === 1, 'two events and one dead letter');
    expect(received.map((e) => e.value.run_id)).toEqual(['a', 'c']);
    expect(letters[0]!.value).toMatchObject({ run_id: 'b', error_kind: 'invalid-event', consumer: 'workers', source_offset: 1 });
    expect((letters[0]!.value as DeadLetter).reason).toBe('a RunFinished that workers refuses: step 13 is unlucky');
    expect(checked).toBe(3);
    await stop();
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

describe('dead letters', () => {
  const message = (offset: string, value = Buffer.from('junk')): BusMessage => ({
    topic: 'src',
    partition: 2,
    offset,
    key: Buffer.from('run'),
    value,
    timestamp: 0,
  });
  const decodeError = new DecodeError('bad-magic', 'not avro');

  it('gives a letter the same event_id every time its group gives up on the same message', () => {
    const a = deadLetterFor(message('5'), decodeError, 'ingest');
    expect(deadLetterFor(message('5'), decodeError, 'ingest').event_id).toBe(a.event_id);
    expect(a.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deadLetterFor(message('6'), decodeError, 'ingest').event_id).not.toBe(a.event_id);
    expect(deadLetterFor(message('5'), decodeError, 'detector').event_id).not.toBe(a.event_id);
  });

  it('backs off exponentially up to a cap', () => {
    expect([1, 2, 3, 4, 8, 9, 100].map((n) => backoffDelay(n))).toEqual([200, 400, 800, 1600, 25_600, 30_000, 30_000]);
    expect(backoffDelay(3, 50, 120)).toBe(120);
  });

  /** A producer whose dead-letter writes fail the first `failures` times. */
  function flaky(real: Producer, topic: string, failures: number) {
    const attempts: number[] = [];
    const producer: Producer = {
      send: async (t: string, m: OutgoingMessage[]) => {
        if (t === topic) {
          attempts.push(Date.now());
          if (attempts.length <= failures) throw new Error('NOT_ENOUGH_REPLICAS: the broker is unhappy');
        }
        await real.send(t, m);
      },
      close: () => real.close(),
    };
    return { producer, attempts };
  }

  it('backs off a failing dead-letter write, says so loudly, and loses neither letters nor good events', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics(standardTopics(1));
    const real = await bus.producer();
    const { producer, attempts } = flaky(real, TOPICS.deadLetter, 3);
    const received: ReceivedEvent[] = [];
    const logs: string[] = [];
    const errors: unknown[] = [];
    const written: DeadLetter[] = [];
    const consumer = eventConsumer(bus, {
      groupId: 'ingest',
      topics: [TOPICS.events],
      fromBeginning: true,
      codec,
      deadLetters: producer,
      deadLetterBackoff: { initialMs: 100, maxMs: 1000 },
      log: (line) => logs.push(line),
      onError: (err) => errors.push(err),
      onDeadLetter: (l) => written.push(l),
      handle: async (events) => void received.push(...events),
    });
    await real.send(TOPICS.events, [
      { key: 'r', value: Buffer.from('junk 1') },
      { key: 'r', value: codec.encode('RunFinished', finished('r', 1)) },
      { key: 'r', value: Buffer.from('junk 2') },
    ]);
    await consumer.start();
    await waitUntil(() => received.length === 1 && written.length === 2, 'the event and both letters', 10_000);
    // 100, 200, 400 ms between the attempts: backed off, not a tight loop.
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    expect(gaps).toHaveLength(3);
    [100, 200, 400].forEach((min, i) => expect(gaps[i]).toBeGreaterThanOrEqual(min - 10));
    expect(logs).toHaveLength(4);
    expect(logs[0]).toContain('group ingest: cannot write 2 dead letters to grokstream.deadletter.v1 (failure 1 in a row)');
    expect(logs[0]).toContain('NOT_ENOUGH_REPLICAS: the broker is unhappy');
    expect(logs[0]).toContain('comes again in 0.1 s');
    expect(logs[0]).toContain('its 1 good events wait and none is lost');
    expect(logs[2]).toContain('comes again in 0.4 s');
    expect(logs[3]).toContain('are written again, after 3 failed attempts');
    expect(errors).toHaveLength(3);
    expect(consumer.stats).toMatchObject({ deadLetters: 2, deadLetterWriteFailures: 3, deadLettersSkipped: 0 });
    expect((await bus.endOffsets(TOPICS.deadLetter))[0]!.offset).toBe('2');
    await consumer.stop();
  });

  it('writes one letter per bad message even when its batch comes again, and again after a restart', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics(standardTopics(1));
    const producer = await bus.producer();
    await producer.send(TOPICS.events, [
      { key: 'r', value: Buffer.from('junk') },
      { key: 'r', value: codec.encode('RunFinished', finished('r', 1)) },
    ]);
    const skipped: string[] = [];
    let attempts = 0;
    const detector = (seed: boolean) =>
      eventConsumer(bus, {
        groupId: 'detector',
        topics: [TOPICS.events],
        fromBeginning: true,
        commit: false,
        codec,
        deadLetters: producer,
        seedFromDeadLetters: seed,
        onDeadLetterSkipped: (s) => skipped.push(`${s.topic}/${s.partition}/${s.offset}`),
        handle: async () => {
          if (++attempts <= 2) throw new Error('busy');
        },
      });
    const first = detector(true);
    await first.start();
    await waitUntil(() => attempts === 3, 'two failures and a success');
    await first.stop();
    expect(first.stats).toMatchObject({ deadLetters: 1, deadLettersSkipped: 2, deadLettersSeeded: 0 });
    expect(skipped).toEqual([`${TOPICS.events}/0/0`, `${TOPICS.events}/0/0`]);
    const restarted = detector(true);
    await restarted.start();
    expect(restarted.stats.deadLettersSeeded).toBe(1);
    await waitUntil(() => attempts === 4, 'the re-read');
    await restarted.stop();
    expect(restarted.stats).toMatchObject({ deadLetters: 0, deadLettersSkipped: 1 });
    expect((await bus.endOffsets(TOPICS.deadLetter))[0]!.offset).toBe('1');
    // Without reading its letters back, a restarted group would write them again.
    const forgetful = detector(false);
    await forgetful.start();
    await waitUntil(() => attempts === 5, 'the re-read');
    await forgetful.stop();
    expect(forgetful.stats.deadLetters).toBe(1);
    const letters = (await readAll(bus, [TOPICS.deadLetter])).map((m) => codec.decode(m.value).value as DeadLetter);
    // ... with the same event_id, so a store keeps one.
    expect(letters).toHaveLength(2);
    expect(letters[0]!.event_id).toBe(letters[1]!.event_id);
  });

  it('cuts the payload of a letter too big for the dead-letter topic, and says so in its reason', async () => {
    const bus = new MemoryBus();
    const dlt = 'small.deadletter';
    await bus.ensureTopics([
      { topic: TOPICS.events, partitions: 1 },
      { topic: dlt, partitions: 1, config: { 'max.message.bytes': '4096' } },
    ]);
    const producer = await bus.producer();
    const big = Buffer.alloc(10_000, 0x41);
    await producer.send(TOPICS.events, [{ key: 'r', value: big }]);
    const written: DeadLetter[] = [];
    const consumer = eventConsumer(bus, {
      groupId: 'g',
      topics: [TOPICS.events],
      fromBeginning: true,
      codec,
      deadLetters: producer,
      deadLetterTopic: dlt,
      onDeadLetter: (l) => written.push(l),
      handle: async () => {},
    });
    await consumer.start();
    await waitUntil(() => written.length === 1, 'the letter');
    await consumer.stop();
    const [stored] = await readAll(bus, [dlt]);
    expect(singleRecordBatchBytes({ key: 'r', value: stored!.value })).toBeLessThanOrEqual(4096);
    const letter = codec.decode(stored!.value).value as DeadLetter;
    expect(letter.payload.length).toBeGreaterThan(3000);
    expect(big.subarray(0, letter.payload.length).equals(letter.payload)).toBe(true);
    expect(letter.reason).toContain(`payload cut from 10000 to its first ${letter.payload.length} bytes`);
    expect(letter.reason).toContain('at most 4096 bytes');
  });
});

deadLetterAcceptance('memory', async () => new MemoryBus(), { timeoutMs: 60_000, report: (line) => console.log(line) });
