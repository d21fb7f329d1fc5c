import { describe, expect, it } from 'vitest';
import { MemoryBus } from './memory-bus.ts';
import type { Consumer } from './bus.ts';
import { busContract } from './bus.contract.ts';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES, recordBytes } from './request-size.ts';

busContract('memory', async () => new MemoryBus(), { timeoutMs: 5_000, quietMs: 200 });

describe('MemoryBus', () => {
  it('refuses a topic with a non-positive partition count', async () => {
    await expect(new MemoryBus().ensureTopics([{ topic: 't', partitions: 0 }])).rejects.toThrow(/positive integer/);
  });

  it('refuses to send after close', async () => {
    const bus = new MemoryBus();
    const p = await bus.producer();
    await bus.close();
    await expect(p.send('t', [{ key: 'k', value: Buffer.from('x') }])).rejects.toThrow(/closed/);
  });

  it('refuses, as a broker would, an append whose batch for one partition is over the topic limit', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics([{ topic: 't', partitions: 1 }]);
    const messages = Array.from({ length: 1100 }, () => ({ key: 'k', value: Buffer.alloc(1000) }));
    expect(() => bus.append('t', messages)).toThrow(/MESSAGE_TOO_LARGE: a batch of \d+ bytes for t\/0 is over the topic's max.message.bytes of 1048588/);
    expect(await bus.endOffsets('t')).toEqual([{ partition: 0, offset: '0' }]); // all or nothing
    // Its producer splits the same messages into appends under maxRequestBytes.
    const sizes: number[] = [];
    const append = bus.append.bind(bus);
    bus.append = (topic, chunk) => {
      sizes.push(61 + chunk.reduce((sum, m) => sum + recordBytes(m), 0));
      append(topic, chunk);
    };
    await (await bus.producer()).send('t', messages);
    expect(sizes.length).toBeGreaterThan(1);
    for (const s of sizes) expect(s).toBeLessThanOrEqual(900 * 1024);
    expect(await bus.endOffsets('t')).toEqual([{ partition: 0, offset: '1100' }]);
  });

  it('takes maxRequestBytes and the older partition-count argument', async () => {
    const small = new MemoryBus({ maxRequestBytes: 4096 });
    const sizes: number[] = [];
    const append = small.append.bind(small);
    small.append = (topic, chunk) => {
      sizes.push(chunk.length);
      append(topic, chunk);
    };
    await (await small.producer()).send('auto', Array.from({ length: 10 }, () => ({ key: 'k', value: Buffer.alloc(1000) })));
    expect(sizes).toEqual([3, 3, 3, 1]); // records of about 1 KB: three fit in 4 KiB, four do not
    expect(() => new MemoryBus({ maxRequestBytes: 1 })).toThrow(/maxRequestBytes/);
    const legacy = new MemoryBus(3);
    await (await legacy.producer()).send('auto', [{ key: 'k', value: Buffer.from('x') }]);
    expect(await legacy.partitionCount('auto')).toBe(3);
    expect(KAFKA_DEFAULT_MAX_MESSAGE_BYTES).toBe(1_048_588);
  });

  it('gives a leaving member\'s partitions to the rest of the group', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics([{ topic: 't', partitions: 2 }]);
    const seen: Array<{ who: string; partition: number }> = [];
    const mk = (who: string) =>
      bus.consumer({
        groupId: 'g',
        topics: ['t'],
        fromBeginning: true,
        handleBatch: async (b) => void seen.push(...b.messages.map((m) => ({ who, partition: m.partition }))),
      });
    const a = mk('a');
    const b = mk('b');
    await a.start();
    await b.start();
    await b.stop();
    const p = await bus.producer();
    await p.send('t', ['x', 'y', 'z', 'w'].map((k) => ({ key: k, value: Buffer.from(k) })));
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toHaveLength(4);
    expect(new Set(seen.map((s) => s.who))).toEqual(new Set(['a']));
    await a.stop();
  });
});

describe('onAssignment', () => {
  it('runs once per rebalance, before any batch of the new generation, with what the member holds', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics([{ topic: 't', partitions: 2 }]);
    const trace: string[] = [];
    let held: number[] = [];
    const a: Consumer = bus.consumer({
      groupId: 'g-assign',
      topics: ['t'],
      fromBeginning: true,
      onAssignment: async (assigned) => {
        held = assigned.map((x) => x.partition).sort();
        trace.push(`assign ${held.join(',')}`);
      },
      handleBatch: async (b) => {
        // Every batch comes after the hook has seen the member's current assignment.
        const now = a.assignment().map((x) => x.partition).sort();
        trace.push(now.join() === held.join() && held.includes(b.partition) ? 'batch ok' : `batch of ${b.partition} while holding ${now} (hook saw ${held})`);
        await new Promise((r) => setTimeout(r, 5));
      },
    });
    await a.start();
    const p = await bus.producer();
    const send = () => p.send('t', Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: Buffer.from(String(i)) })));
    await send();
    const b = bus.consumer({ groupId: 'g-assign', topics: ['t'], fromBeginning: true, handleBatch: async () => {} });
    await b.start(); // a rebalance while a handles batches
    await send();
    await new Promise((r) => setTimeout(r, 100));
    await b.stop();
    await send();
    await new Promise((r) => setTimeout(r, 100));
    await a.stop();
    expect(trace.filter((t) => t.startsWith('assign'))).toEqual(['assign 0,1', 'assign 0', 'assign 0,1']);
    expect(trace.filter((t) => t.startsWith('batch') && t !== 'batch ok')).toEqual([]);
  });
});

describe('readAll', () => {
  it('returns every message up to the end offsets at the call, in partition order', async () => {
    const { readAll } = await import('./read-all.ts');
    const bus = new MemoryBus();
    await bus.ensureTopics([{ topic: 'x', partitions: 2 }, { topic: 'empty', partitions: 1 }]);
    const p = await bus.producer();
    await p.send('x', ['a', 'b', 'c', 'd'].map((k) => ({ key: k, value: Buffer.from(k) })));
    const all = await readAll(bus, ['x', 'empty']);
    expect(all.map((m) => m.value.toString()).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(await readAll(bus, ['empty'])).toEqual([]);
  });
});
