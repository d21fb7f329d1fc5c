// Helpers for tests of the detector service on the in-process bus.
import { EventCodec, TOPICS, type AnyEvent } from '@grokstream/schemas';
import { MemoryBus, type Producer } from '@grokstream/bus';
import type { DetectorOutput } from './detect-run.ts';
import type { DetectorService } from './service.ts';

export const codec = EventCodec.load();

/** Per run and topic, in log order: what a replay says, or what is on the phases and control topics. */
export type OutputsByRun = Record<string, { phases: AnyEvent[]; stops: AnyEvent[] }>;

export function byRun(outputs: Array<DetectorOutput | AnyEvent>, runIds: string[]): OutputsByRun {
  const out: OutputsByRun = {};
  for (const r of runIds) out[r] = { phases: [], stops: [] };
  for (const o of outputs) {
    const slot = (out[o.value.run_id] ??= { phases: [], stops: [] });
    (o.name === 'StopRun' ? slot.stops : slot.phases).push({ name: o.name, value: o.value } as AnyEvent);
  }
  return out;
}

/** Everything on the phases and control topics, decoded, each partition in offset order. */
export async function onTopics(bus: MemoryBus): Promise<AnyEvent[]> {
  const out: AnyEvent[] = [];
  for (const topic of [TOPICS.phases, TOPICS.control]) {
    const partitions = await bus.partitionCount(topic);
    for (let p = 0; p < partitions; p++) {
      for (const m of bus.read(topic, p, 0, bus.end(topic, p))) {
        const e = codec.decode(m.value);
        out.push({ name: e.name, value: e.value } as AnyEvent);
      }
    }
  }
  return out;
}

/** How many messages the phases and control topics hold. */
export async function outputCount(bus: MemoryBus): Promise<number> {
  let n = 0;
  for (const topic of [TOPICS.phases, TOPICS.control]) for (const e of await bus.endOffsets(topic)) n += Number(e.offset);
  return n;
}

/**
 * Stops an instance quickly: an idle in-process consumer sleeps up to 200 ms before it notices a
 * stop, unless something is appended, so this appends to a scratch topic while it waits.
 */
export async function stopQuickly(bus: MemoryBus, poker: Producer, service: DetectorService): Promise<void> {
  let done = false;
  const stopping = service.stop().finally(() => (done = true));
  while (!done) {
    await poker.send('grokstream.test.wake', [{ key: null, value: Buffer.alloc(0) }]);
    await new Promise((r) => setTimeout(r, 2));
  }
  await stopping;
}
