// The contract every Bus implementation passes. Registered by memory-bus.spec.ts (unit) and by
// tests/integration/kafka-bus.test.ts (real broker).
import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Batch, Bus, BusMessage, Consumer } from './bus.ts';
import { partitionForKey } from './partitioner.ts';
import { RecordTooLargeError, largestValueBytes, singleRecordBatchBytes } from './request-size.ts';
import { waitUntil } from './wait.ts';

export interface BusContractOptions {
  /** How long to wait for deliveries; a real broker needs more than memory. */
  timeoutMs: number;
  /** How long "nothing arrives" is observed when a consumer is paused. */
  quietMs: number;
}

export function busContract(name: string, makeBus: () => Promise<Bus>, opts: BusContractOptions): void {
  describe(`bus contract: ${name}`, () => {
    let bus: Bus | undefined;
    const consumers: Consumer[] = [];

    afterEach(async () => {
      for (const c of consumers.splice(0)) await c.stop();
      await bus?.close();
      bus = undefined;
    });

    const fresh = async () => (bus = await makeBus());
    const topicName = (what: string) => `contract.${what}.${randomUUID().slice(0, 8)}`;
    const payload = (key: string, i: number) => Buffer.from(`${key}:${i}`);
    const text = (m: BusMessage) => m.value.toString();

    function collector() {
      const seen: BusMessage[] = [];
      return { seen, handleBatch: async (b: Batch) => void seen.push(...b.messages) };
    }

    async function started(c: Consumer): Promise<Consumer> {
      consumers.push(c);
      await c.start();
      return c;
    }

    it('keeps a key in one partition, chosen like Kafka, in send order', async () => {
      const b = await fresh();
      const topic = topicName('order');
      await b.ensureTopics([{ topic, partitions: 4 }]);
      expect(await b.partitionCount(topic)).toBe(4);
      const p = await b.producer();
      const keys = ['run-a', 'run-b', 'run-c', 'run-d', 'run-e'];
      for (let i = 0; i < 40; i++) await p.send(topic, keys.map((k) => ({ key: k, value: payload(k, i) })));
      const c = collector();
      await started(b.consumer({ groupId: `g-${randomUUID()}`, topics: [topic], fromBeginning: true, ...c }));
      await waitUntil(() => c.seen.length >= 200, '200 messages', opts.timeoutMs);
      expect(c.seen).toHaveLength(200);
      for (const k of keys) {
        const mine = c.seen.filter((m) => m.key?.toString() === k);
        expect(mine.map(text)).toEqual(Array.from({ length: 40 }, (_, i) => `${k}:${i}`));
        expect(new Set(mine.map((m) => m.partition))).toEqual(new Set([partitionForKey(k, 4)]));
        // offsets grow within the partition
        const offsets = mine.map((m) => BigInt(m.offset));
        expect(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!)).toBe(true);
      }
      const ends = await b.endOffsets(topic);
      expect(ends.reduce((s, e) => s + Number(e.offset), 0)).toBe(200);
      await p.close();
    });

    it('splits partitions among the members of a group, each message to one member', async () => {
      const b = await fresh();
      const topic = topicName('group');
      await b.ensureTopics([{ topic, partitions: 4 }]);
      const groupId = `g-${randomUUID()}`;
      const c1 = collector();
      const c2 = collector();
      const m1 = await started(b.consumer({ groupId, topics: [topic], fromBeginning: true, ...c1 }));
      const m2 = await started(b.consumer({ groupId, topics: [topic], fromBeginning: true, ...c2 }));
      // Wait for the rebalance to settle: each member holds a share, and together all four.
      const held = () => [...m1.assignment(), ...m2.assignment()].map((a) => a.partition).sort();
      await waitUntil(
        () => m1.assignment().length > 0 && m2.assignment().length > 0 && held().join() === '0,1,2,3',
        'the group to split the partitions',
        opts.timeoutMs,
      );
      const p = await b.producer();
      const keys = Array.from({ length: 16 }, (_, i) => `run-${i}`);
      await p.send(topic, keys.flatMap((k) => [0, 1, 2].map((i) => ({ key: k, value: payload(k, i) }))));
      await waitUntil(() => c1.seen.length + c2.seen.length >= 48, '48 messages across the group', opts.timeoutMs);
      const all = [...c1.seen, ...c2.seen].map(text).sort();
      expect(all).toEqual(keys.flatMap((k) => [0, 1, 2].map((i) => `${k}:${i}`)).sort());
      const p1 = new Set(c1.seen.map((m) => m.partition));
      const p2 = new Set(c2.seen.map((m) => m.partition));
      expect([...p1].filter((x) => p2.has(x))).toEqual([]);
      await p.close();
    });

    it('resumes a group from its committed offset', async () => {
      const b = await fresh();
      const topic = topicName('commit');
      await b.ensureTopics([{ topic, partitions: 1 }]);
      const groupId = `g-${randomUUID()}`;
      const p = await b.producer();
      await p.send(topic, Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: payload('k', i) })));
      const first = collector();
      const c1 = await started(b.consumer({ groupId, topics: [topic], fromBeginning: true, ...first }));
      await waitUntil(() => first.seen.length >= 10, 'first 10', opts.timeoutMs);
      await c1.stop();
      await p.send(topic, Array.from({ length: 5 }, (_, i) => ({ key: 'k', value: payload('k', 10 + i) })));
      const second = collector();
      await started(b.consumer({ groupId, topics: [topic], fromBeginning: true, ...second }));
      await waitUntil(() => second.seen.length >= 5, 'the 5 new messages', opts.timeoutMs);
      await new Promise((r) => setTimeout(r, opts.quietMs));
      expect(second.seen.map(text)).toEqual([10, 11, 12, 13, 14].map((i) => `k:${i}`));
      await p.close();
    });

    it('starts a non-committing group from the beginning again after a restart', async () => {
      const b = await fresh();
      const topic = topicName('nocommit');
      await b.ensureTopics([{ topic, partitions: 1 }]);
      const groupId = `g-${randomUUID()}`;
      const p = await b.producer();
      await p.send(topic, Array.from({ length: 3 }, (_, i) => ({ key: 'k', value: payload('k', i) })));
      const first = collector();
      const c1 = await started(b.consumer({ groupId, topics: [topic], fromBeginning: true, commit: false, ...first }));
      await waitUntil(() => first.seen.length >= 3, 'three messages', opts.timeoutMs);
      await c1.stop();
      const second = collector();
      await started(b.consumer({ groupId, topics: [topic], fromBeginning: true, commit: false, ...second }));
      await waitUntil(() => second.seen.length >= 3, 'the same three again', opts.timeoutMs);
      expect(second.seen.map(text)).toEqual(['k:0', 'k:1', 'k:2']);
      await p.close();
    });

    it('redelivers a batch whose handler failed, without losing or reordering', async () => {
      const b = await fresh();
      const topic = topicName('retry');
      await b.ensureTopics([{ topic, partitions: 1 }]);
      const p = await b.producer();
      await p.send(topic, Array.from({ length: 20 }, (_, i) => ({ key: 'k', value: payload('k', i) })));
      const processed: number[] = [];
      const errors: unknown[] = [];
      let failures = 0;
      const index = (m: BusMessage) => Number(text(m).split(':')[1]);
      await started(
        b.consumer({
          groupId: `g-${randomUUID()}`,
          topics: [topic],
          fromBeginning: true,
          onError: (err) => errors.push(err),
          handleBatch: async (batch) => {
            if (failures < 2 && batch.messages.some((m) => index(m) === 7)) {
              failures++;
              // Process part of the batch, then fail: the whole batch must come again.
              for (const m of batch.messages) if (index(m) < 7) processed.push(index(m));
              throw new Error('store unavailable');
            }
            processed.push(...batch.messages.map(index));
          },
        }),
      );
      await waitUntil(() => processed.includes(19), 'the last message', opts.timeoutMs);
      expect(errors).toHaveLength(2);
      expect(new Set(processed)).toEqual(new Set(Array.from({ length: 20 }, (_, i) => i)));
      // After the last failure, delivery goes on in order from where it failed.
      const tail = processed.slice(processed.indexOf(7));
      expect(tail).toEqual(tail.slice().sort((x, y) => x - y));
      expect(tail.slice(-13)).toEqual(Array.from({ length: 13 }, (_, i) => i + 7));
      await p.close();
    });

    it('tells a long batch to hand its partition back when a member joins or it stops; uncommitted, it comes again', async () => {
      const b = await fresh();
      const topic = topicName('lease');
      await b.ensureTopics([{ topic, partitions: 1 }]);
      const p = await b.producer();
      await p.send(topic, [{ key: 'k', value: payload('k', 0) }]);
      const groupId = `g-${randomUUID()}`;
      const handled: string[] = [];
      const yielded: string[] = [];
      // A worker: holds its batch until told to give it back (or 30 s), then throws, uncommitted.
      const worker = (name: string) =>
        b.consumer({
          groupId,
          topics: [topic],
          fromBeginning: true,
          retryDelayMs: () => 50,
          handleBatch: async (batch) => {
            handled.push(name);
            const signal = batch.signal!;
            expect(signal).toBeDefined();
            await new Promise<void>((resolve) => {
              const t = setTimeout(resolve, 30_000);
              signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
            });
            yielded.push(`${name}: ${String((signal.reason as Error)?.message ?? signal.reason)}`);
            throw new Error('handed back');
          },
        });
      await started(worker('a'));
      await waitUntil(() => handled.length === 1, 'a takes the batch', opts.timeoutMs);
      await started(worker('b')); // a rebalance: a must hand the partition back
      await waitUntil(() => yielded.length >= 1, 'a hands it back', opts.timeoutMs);
      expect(yielded[0]).toMatch(/^a: .*(rebalanc|reassigned|stopping)/);
      // Not committed: whoever holds the partition now gets the message again.
      await waitUntil(() => handled.length >= 2, 'the batch again', opts.timeoutMs);
      // And a consumer that stops tells its batch in flight to give it back.
      const stopping = Promise.all(consumers.splice(0).map((c) => c.stop()));
      await waitUntil(() => yielded.length >= 2, 'the last holder hands it back on stop', opts.timeoutMs);
      expect(yielded.at(-1)).toMatch(/(stopping|reassigned|rebalanc)/);
      await stopping;
      await p.close();
    });

    it('pauses and resumes delivery', async () => {
      const b = await fresh();
      const topic = topicName('pause');
      await b.ensureTopics([{ topic, partitions: 1 }]);
      const c = collector();
      const consumer = await started(b.consumer({ groupId: `g-${randomUUID()}`, topics: [topic], fromBeginning: true, ...c }));
      const p = await b.producer();
      await p.send(topic, [{ key: 'k', value: payload('k', 0) }]);
      await waitUntil(() => c.seen.length === 1, 'first message', opts.timeoutMs);
      consumer.pause();
      await new Promise((r) => setTimeout(r, 300)); // let a fetch in flight finish
      const before = c.seen.length;
      await p.send(topic, [{ key: 'k', value: payload('k', 1) }]);
      await new Promise((r) => setTimeout(r, opts.quietMs));
      expect(c.seen.length).toBe(before);
      consumer.resume();
      await waitUntil(() => c.seen.length === 2, 'message after resume', opts.timeoutMs);
      expect(c.seen.map(text)).toEqual(['k:0', 'k:1']);
      await p.close();
    });

    it('starts a new group at the end unless told to read from the beginning', async () => {
      const b = await fresh();
      const topic = topicName('start');
      await b.ensureTopics([{ topic, partitions: 1 }]);
      const p = await b.producer();
      await p.send(topic, [{ key: 'k', value: payload('k', 0) }]);
      const latest = collector();
      const earliest = collector();
      await started(b.consumer({ groupId: `g-${randomUUID()}`, topics: [topic], ...latest }));
      await started(b.consumer({ groupId: `g-${randomUUID()}`, topics: [topic], fromBeginning: true, ...earliest }));
      await p.send(topic, [{ key: 'k', value: payload('k', 1) }]);
      await waitUntil(() => latest.seen.length >= 1 && earliest.seen.length >= 2, 'both groups', opts.timeoutMs);
      expect(latest.seen.map(text)).toEqual(['k:1']);
      expect(earliest.seen.map(text)).toEqual(['k:0', 'k:1']);
      await p.close();
    });

    it('stops cleanly: the batch in flight finishes and is committed', async () => {
      const b = await fresh();
      const topic = topicName('stop');
      await b.ensureTopics([{ topic, partitions: 1 }]);
      const groupId = `g-${randomUUID()}`;
      const p = await b.producer();
      let inFlight = false;
      let finished = 0;
      const consumer = await started(
        b.consumer({
          groupId,
          topics: [topic],
          fromBeginning: true,
          handleBatch: async (batch) => {
            inFlight = true;
            await new Promise((r) => setTimeout(r, 300));
            finished += batch.messages.length;
          },
        }),
      );
      await p.send(topic, Array.from({ length: 3 }, (_, i) => ({ key: 'k', value: payload('k', i) })));
      await waitUntil(() => inFlight, 'a batch in flight', opts.timeoutMs);
      await consumer.stop();
      expect(finished).toBe(3);
      // The group resumes after the stopped batch: nothing is delivered twice.
      const after = collector();
      await started(b.consumer({ groupId, topics: [topic], fromBeginning: true, ...after }));
      await p.send(topic, [{ key: 'k', value: payload('k', 3) }]);
      await waitUntil(() => after.seen.length >= 1, 'the next message', opts.timeoutMs);
      await new Promise((r) => setTimeout(r, opts.quietMs));
      expect(after.seen.map(text)).toEqual(['k:3']);
      await p.close();
    });

    it('replays from an offset after seek', async () => {
      const b = await fresh();
      const topic = topicName('seek');
      await b.ensureTopics([{ topic, partitions: 1 }]);
      const p = await b.producer();
      await p.send(topic, Array.from({ length: 5 }, (_, i) => ({ key: 'k', value: payload('k', i) })));
      const c = collector();
      const consumer = await started(b.consumer({ groupId: `g-${randomUUID()}`, topics: [topic], fromBeginning: true, ...c }));
      await waitUntil(() => c.seen.length >= 5, 'five messages', opts.timeoutMs);
      consumer.seek(topic, 0, '2');
      await waitUntil(() => c.seen.length >= 8, 'the replayed three', opts.timeoutMs);
      expect(c.seen.map(text)).toEqual(['k:0', 'k:1', 'k:2', 'k:3', 'k:4', 'k:2', 'k:3', 'k:4']);
      await p.close();
    });
    it('reports 0 partitions for a topic that does not exist', async () => {
      const b = await fresh();
      expect(await b.partitionCount(topicName('missing'))).toBe(0);
    });

    it('splits a send by bytes: ~3 MB in many messages arrives whole, each key in order', async () => {
      const b = await fresh();
      const topic = topicName('split');
      // One partition: unsplit, this would be one 3 MB batch, three times what the topic takes.
      await b.ensureTopics([{ topic, partitions: 1 }]);
      const keys = ['run-a', 'run-b', 'run-c'];
      const n = 3000;
      const body = (k: string, i: number) => Buffer.concat([Buffer.from(`${k}:${i}:`), Buffer.alloc(1000, i % 251)]);
      const p = await b.producer();
      await p.send(topic, Array.from({ length: n }, (_, i) => ({ key: keys[i % 3]!, value: body(keys[i % 3]!, i) })));
      const c = collector();
      await started(b.consumer({ groupId: `g-${randomUUID()}`, topics: [topic], fromBeginning: true, ...c }));
      await waitUntil(() => c.seen.length >= n, `${n} messages`, opts.timeoutMs);
      expect(c.seen).toHaveLength(n);
      expect(c.seen.reduce((sum, m) => sum + m.value.length, 0)).toBeGreaterThan(3_000_000);
      // The whole send in send order, byte for byte.
      c.seen.forEach((m, i) => expect(m.value.equals(body(keys[i % 3]!, i))).toBe(true));
      const ends = await b.endOffsets(topic);
      expect(ends).toEqual([{ partition: 0, offset: String(n) }]);
      await p.close();
    });

    it('refuses a message bigger than the topic takes, naming topic, size and limit, and sends nothing of that call', async () => {
      const b = await fresh();
      const topic = topicName('toolarge');
      await b.ensureTopics([{ topic, partitions: 1, config: { 'max.message.bytes': '65536' } }]);
      const p = await b.producer();
      const big = { key: 'k', value: Buffer.alloc(70_000, 1) };
      const small = { key: 'k', value: Buffer.from('ok') };
      const err = await p.send(topic, [small, big, small]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RecordTooLargeError);
      const tooLarge = err as RecordTooLargeError;
      expect(tooLarge.message).toContain(topic);
      expect(tooLarge.message).toContain(String(singleRecordBatchBytes(big)));
      expect(tooLarge.message).toContain('65536');
      expect({ index: tooLarge.index, bytes: tooLarge.bytes, limit: tooLarge.limit }).toEqual({
        index: 1,
        bytes: singleRecordBatchBytes(big),
        limit: 65536,
      });
      expect(await b.endOffsets(topic)).toEqual([{ partition: 0, offset: '0' }]);
      // The producer is still usable: a message exactly at the limit goes through.
      const exact = { key: 'k', value: Buffer.alloc(largestValueBytes('k', 65536), 2) };
      expect(singleRecordBatchBytes(exact)).toBe(65536);
      await p.send(topic, [exact]);
      expect(await b.endOffsets(topic)).toEqual([{ partition: 0, offset: '1' }]);
      await p.close();
    });

    it('a producer told its topics up front: the same limits, and a topic not created yet gets its own later', async () => {
      const b = await fresh();
      const topic = topicName('upfront');
      const later = topicName('later');
      await b.ensureTopics([{ topic, partitions: 1, config: { 'max.message.bytes': '65536' } }]);
      const p = await b.producer({ topics: [topic, later] });
      await expect(p.send(topic, [{ key: 'k', value: Buffer.alloc(70_000, 1) }])).rejects.toBeInstanceOf(RecordTooLargeError);
      await p.send(topic, [{ key: 'k', value: Buffer.from('ok') }]);
      expect(await b.endOffsets(topic)).toEqual([{ partition: 0, offset: '1' }]);
      // Created after the producer looked: its own limit, not a default remembered from then.
      await b.ensureTopics([{ topic: later, partitions: 1, config: { 'max.message.bytes': '65536' } }]);
      await expect(p.send(later, [{ key: 'k', value: Buffer.alloc(70_000, 1) }])).rejects.toBeInstanceOf(RecordTooLargeError);
      await p.close();
    });

    it('takes a message over the default 1 MB limit on a topic configured for it, also when the limit was raised later', async () => {
      const b = await fresh();
      const topic = topicName('bigtopic');
      await b.ensureTopics([{ topic, partitions: 1 }]);
      const p = await b.producer();
      const big = Buffer.alloc(1_500_000, 7);
      await expect(p.send(topic, [{ key: 'k', value: big }])).rejects.toThrow(RecordTooLargeError);
      // An existing topic: its partitions stay, a higher max.message.bytes is applied.
      await b.ensureTopics([{ topic, partitions: 3, config: { 'max.message.bytes': String(2 * 1024 * 1024) } }]);
      expect(await b.partitionCount(topic)).toBe(1);
      await p.send(topic, [{ key: 'k', value: big }, { key: 'k', value: Buffer.from('after') }]);
      const c = collector();
      await started(b.consumer({ groupId: `g-${randomUUID()}`, topics: [topic], fromBeginning: true, ...c }));
      await waitUntil(() => c.seen.length >= 2, 'the big message and the next', opts.timeoutMs);
      expect(c.seen[0]!.value.equals(big)).toBe(true);
      expect(text(c.seen[1]!)).toBe('after');
      await p.close();
    });

    it('holds a partition whose batch failed back for retryDelayMs, while the others go on', async () => {
      const b = await fresh();
      const topic = topicName('backoff');
      await b.ensureTopics([{ topic, partitions: 2 }]);
      const keyOn = (partition: number) => Array.from({ length: 100 }, (_, i) => `k${i}`).find((k) => partitionForKey(k, 2) === partition)!;
      const [k0, k1] = [keyOn(0), keyOn(1)];
      const delayMs = 2500;
      const handled: Array<{ value: string; at: number }> = [];
      let failedAt = 0;
      const failures: number[] = [];
      const p = await b.producer();
      await started(
        b.consumer({
          groupId: `g-${randomUUID()}`,
          topics: [topic],
          fromBeginning: true,
          retryDelayMs: (n) => {
            failures.push(n);
            return delayMs;
          },
          handleBatch: async (batch) => {
            if (batch.partition === 0 && failedAt === 0) {
              failedAt = Date.now();
              throw new Error('store unavailable');
            }
            for (const m of batch.messages) handled.push({ value: text(m), at: Date.now() });
          },
        }),
      );
      await p.send(topic, [{ key: k0, value: Buffer.from('first') }]);
      await waitUntil(() => failedAt > 0, 'the failure', opts.timeoutMs);
      await p.send(topic, [{ key: k1, value: Buffer.from('other partition') }]);
      await waitUntil(() => handled.length >= 2, 'both messages', opts.timeoutMs);
      expect(handled.map((h) => h.value)).toEqual(['other partition', 'first']);
      expect(handled[1]!.at - failedAt).toBeGreaterThanOrEqual(delayMs - 50);
      expect(failures).toEqual([1]);
      await p.close();
    });
  });
}
