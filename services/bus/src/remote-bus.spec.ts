// The remote bus (a client forwarding to a host's in-process bus) against the bus contract, over
// a MessagePort; and what happens when its other end goes.
import { describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { MemoryBus } from './memory-bus.ts';
import { RemoteBus, RemoteBusHost } from './remote-bus.ts';
import { portChannel } from './bus-channel.ts';
import { busContract } from './bus.contract.ts';
import { waitUntil } from './wait.ts';
import type { Batch } from './bus.ts';

function pair(memory = new MemoryBus(), closesBus = true) {
  const { port1, port2 } = new MessageChannel();
  const host = new RemoteBusHost(memory, portChannel(port1), { closesBus });
  const client = new RemoteBus(portChannel(port2));
  const close = client.close.bind(client);
  client.close = async () => {
    await close();
    port1.close();
  };
  return { client, host, memory, port1, port2 };
}

busContract('remote (over a MessagePort, to an in-process bus)', async () => pair().client, { timeoutMs: 5_000, quietMs: 200 });

describe('RemoteBus', () => {
  it('shares the host bus with its other users: a message sent remotely reaches a local consumer, and back', async () => {
    const { client, memory } = pair(new MemoryBus(), false);
    await client.ensureTopics([{ topic: 't', partitions: 2 }]);
    const here: string[] = [];
    const local = memory.consumer({ groupId: 'local', topics: ['t'], fromBeginning: true, handleBatch: async (b) => void here.push(...b.messages.map((m) => m.value.toString())) });
    await local.start();
    const there: string[] = [];
    const remote = client.consumer({ groupId: 'remote', topics: ['t'], fromBeginning: true, handleBatch: async (b) => void there.push(...b.messages.map((m) => m.value.toString())) });
    await remote.start();
    await (await client.producer()).send('t', [{ key: 'a', value: Buffer.from('from the client') }]);
    await (await memory.producer()).send('t', [{ key: 'a', value: Buffer.from('from the host') }]);
    await waitUntil(() => here.length === 2 && there.length === 2, 'both messages on both sides');
    expect(here).toEqual(['from the client', 'from the host']);
    expect(there).toEqual(['from the client', 'from the host']);
    await remote.stop();
    await local.stop();
    await client.close();
    expect(memory.isClosed).toBe(false); // a shared bus outlives its clients
  });

  it('when the client goes away mid-batch, its partition goes to another member and the batch comes again', async () => {
    const memory = new MemoryBus();
    await memory.ensureTopics([{ topic: 't', partitions: 1 }]);
    await (await memory.producer()).send('t', [{ key: 'k', value: Buffer.from('point 0') }]);
    const { client, port1, port2 } = pair(memory, false);
    const taken: Batch[] = [];
    const dying = client.consumer({ groupId: 'workers', topics: ['t'], fromBeginning: true, handleBatch: (b) => (taken.push(b), new Promise<void>(() => {})) });
    await dying.start();
    await waitUntil(() => taken.length === 1, 'the first worker takes the point');
    const survivor: string[] = [];
    const other = memory.consumer({ groupId: 'workers', topics: ['t'], fromBeginning: true, handleBatch: async (b) => void survivor.push(...b.messages.map((m) => m.value.toString())) });
    await other.start();
    port2.close(); // the worker process dies: its end of the channel closes
    await waitUntil(() => survivor.length === 1, 'the point comes again to the other worker');
    expect(survivor).toEqual(['point 0']);
    expect(taken[0]!.signal!.aborted).toBe(true);
    await other.stop();
    port1.close();
  });

  it('fails calls once the host is gone, naming why', async () => {
    const { client, port1 } = pair(new MemoryBus(), false);
    port1.close();
    await waitUntil(async () => (await client.partitionCount('t').then(() => false, () => true)), 'calls to fail');
    await expect(client.partitionCount('t')).rejects.toThrow(/remote bus: the bus host is gone/);
  });
});
