import { describe, expect, it } from 'vitest';
import { MemoryBus } from './memory-bus.ts';
import { busContract } from './bus.contract.ts';

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
