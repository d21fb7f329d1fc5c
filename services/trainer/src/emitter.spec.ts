import { describe, expect, it } from 'vitest';
import { exampleStepMetrics, type AnyEvent } from '@grokstream/schemas';
import { BoundedEmitter, BusOutageError, type EmitterOptions } from './emitter.ts';

const event = (step: number): AnyEvent => ({ name: 'StepMetrics', value: exampleStepMetrics({ run_id: 'r', step }) });
const stepOf = (e: AnyEvent) => (e.value as { step: number }).step;
const quiet = (o: Partial<EmitterOptions> = {}): EmitterOptions => ({ capacity: 100, outageLimitMs: 60_000, log: () => {}, retryInitialMs: 1, retryMaxMs: 5, ...o });

describe('BoundedEmitter', () => {
  it('ships every event in order, in batches', async () => {
    const shipped: number[][] = [];
    const e = new BoundedEmitter(async (events) => void shipped.push(events.map(stepOf)), quiet({ maxBatch: 4 }));
    for (let i = 0; i < 10; i++) await e.emit(event(i));
    await e.flush();
    expect(shipped.flat()).toEqual([...Array(10).keys()]);
    expect(Math.max(...shipped.map((b) => b.length))).toBeLessThanOrEqual(4);
    expect(e.stats).toMatchObject({ emitted: 10, shipped: 10, stalls: 0 });
  });

  it('makes the producer wait when the buffer is full, and says so, dropping nothing', async () => {
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    const got: number[] = [];
    const logs: string[] = [];
    const e = new BoundedEmitter(
      async (events) => {
        await gate;
        got.push(...events.map((x) => (x.value as { step: number }).step));
      },
      quiet({ capacity: 3, log: (l) => logs.push(l), maxBatch: 1 }),
    );
    for (let i = 0; i < 3; i++) await e.emit(event(i)); // fills the buffer (one is in flight)
    let fourthDone = false;
    const fourth = e.emit(event(3)).then(() => (fourthDone = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(fourthDone).toBe(false);
    expect(logs).toEqual(['emit: buffer full (3 events): the trainer waits for the bus']);
    release();
    gate = Promise.resolve();
    await fourth;
    await e.flush();
    expect(got).toEqual([0, 1, 2, 3]);
    expect(e.stats.stalls).toBe(1);
  });

  it('rides out a bus that refuses for a while: training goes on, then everything arrives once, in order', async () => {
    let refuse = true;
    const got: number[] = [];
    const logs: string[] = [];
    const e = new BoundedEmitter(async (events) => {
      if (refuse) throw new Error('broker down');
      got.push(...events.map(stepOf));
    }, quiet({ capacity: 50, maxBatch: 7, log: (l) => logs.push(l) }));
    for (let i = 0; i < 30; i++) await e.emit(event(i)); // none of these waits: the buffer has room
    await new Promise((r) => setTimeout(r, 20));
    expect(e.inOutage).toBe(true);
    expect(got).toEqual([]);
    refuse = false;
    for (let i = 30; i < 40; i++) await e.emit(event(i));
    await e.flush();
    expect(got).toEqual([...Array(40).keys()]);
    expect(e.inOutage).toBe(false);
    expect(e.stats.outages).toBe(1);
    expect(e.stats.failedSends).toBeGreaterThan(0);
    expect(logs[0]).toMatch(/the bus refused 1 event \(broker down\); training goes on into the buffer/);
    expect(logs.at(-1)).toMatch(/the bus is back after \d+ s; sending \d+ buffered events/);
  });

  it('gives up past the outage limit: emit still queues, then throws; drain returns every unsent event', async () => {
    let clock = 0;
    const e = new BoundedEmitter(async () => {
      clock += 1000;
      throw new Error('broker down');
    }, quiet({ capacity: 5, outageLimitMs: 10_000, now: () => clock }));
    const thrown: unknown[] = [];
    for (let i = 0; i < 8; i++) await e.emit(event(i)).catch((err: unknown) => thrown.push(err));
    await expect(e.flush()).rejects.toBeInstanceOf(BusOutageError);
    expect(() => e.check()).toThrow(/the bus refused events for \d+ s \(last error: broker down\)/);
    expect(thrown.length).toBeGreaterThan(0);
    expect(e.drain().map(stepOf)).toEqual([...Array(8).keys()]);
    expect(e.pending).toBe(0);
  });

  it('records each accepted event once, however often its batch is retried', async () => {
    let failures = 3;
    const recorded: number[] = [];
    const e = new BoundedEmitter(async () => {
      if (failures-- > 0) throw new Error('not yet');
    }, quiet({ onAccept: (x) => recorded.push(stepOf(x)) }));
    for (let i = 0; i < 5; i++) await e.emit(event(i));
    await e.emit(event(99), { record: false });
    await e.flush();
    expect(recorded).toEqual([0, 1, 2, 3, 4]);
    expect(e.stats.shipped).toBe(6);
  });

  it('does not send again what a failed send had already delivered', async () => {
    const got: number[] = [];
    let first = true;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const e = new BoundedEmitter(async (events) => {
      await gate; // lets the rest pile up behind the first event
      if (first && events.length >= 5) {
        first = false;
        got.push(...events.slice(0, 3).map(stepOf));
        throw Object.assign(new Error('broker went away after 3 of them'), { delivered: 3 });
      }
      got.push(...events.map(stepOf));
    }, quiet({ maxBatch: 10 }));
    for (let i = 0; i < 10; i++) await e.emit(event(i));
    release();
    await e.flush();
    expect(first).toBe(false); // the partial failure happened
    expect(got).toEqual([...Array(10).keys()]);
  });
});

describe('BoundedEmitter with a staged sink (prepare, then send)', () => {
  /** A sink whose sends wait until released, recording when each batch was prepared and sent. */
  function gatedSink(failAt?: { send: number; delivered: number }, prepareFails?: (steps: number[]) => boolean) {
    const trace: string[] = [];
    const sent: number[] = [];
    let releases: Array<() => void> = [];
    let sends = 0;
    const sink = {
      prepare: (events: AnyEvent[]) => {
        const steps = events.map(stepOf);
        if (prepareFails?.(steps)) throw new Error(`cannot encode ${steps.join(',')}`);
        trace.push(`prepare ${steps.join(',')}`);
        return steps;
      },
      send: async (steps: number[]) => {
        const n = ++sends;
        trace.push(`send ${steps.join(',')}`);
        await new Promise<void>((r) => releases.push(r));
        if (failAt && n === failAt.send) {
          sent.push(...steps.slice(0, failAt.delivered));
          throw Object.assign(new Error(`broker went away after ${failAt.delivered}`), { delivered: failAt.delivered });
        }
        sent.push(...steps);
      },
    };
    const releaseAll = () => {
      const r = releases;
      releases = [];
      for (const f of r) f();
    };
    return { sink, trace, sent, releaseAll, inFlight: () => releases.length };
  }
  const settle = () => new Promise((r) => setTimeout(r, 5));

  it('prepares the next batch while the one before it is in flight, one send at a time, in order', async () => {
    const s = gatedSink();
    const e = new BoundedEmitter(s.sink, quiet({ maxBatch: 3 }));
    for (let i = 0; i < 8; i++) await e.emit(event(i));
    await settle();
    // The first send went out with the one event there was; the next three were prepared while it waited.
    expect(s.inFlight()).toBe(1);
    expect(s.trace).toEqual(['prepare 0', 'send 0', 'prepare 1,2,3']);
    for (let k = 0; k < 10 && s.sent.length < 8; k++) {
      s.releaseAll();
      await settle();
      expect(s.inFlight()).toBeLessThanOrEqual(1);
    }
    await e.flush();
    expect(s.sent).toEqual([...Array(8).keys()]);
    expect(s.trace).toEqual(['prepare 0', 'send 0', 'prepare 1,2,3', 'send 1,2,3', 'prepare 4,5,6', 'send 4,5,6', 'prepare 7', 'send 7']);
    expect(e.stats).toMatchObject({ emitted: 8, shipped: 8, failedSends: 0 });
  });

  it('after a send that failed part way, throws the prepared batch away and prepares again from what is unsent', async () => {
    const s = gatedSink({ send: 2, delivered: 2 });
    const e = new BoundedEmitter(s.sink, quiet({ maxBatch: 3 }));
    for (let i = 0; i < 8; i++) await e.emit(event(i));
    for (let k = 0; k < 20 && s.sent.length < 8; k++) {
      s.releaseAll();
      await settle();
    }
    await e.flush();
    expect(s.sent).toEqual([...Array(8).keys()]); // each once, in order
    expect(e.stats.failedSends).toBe(1);
    // batch 1,2,3 failed after 1,2: 4,5,6 (prepared ahead) is dropped; 3,4,5 is prepared and sent.
    expect(s.trace.slice(3)).toEqual(['send 1,2,3', 'prepare 4,5,6', 'prepare 3,4,5', 'send 3,4,5', 'prepare 6,7', 'send 6,7']);
  });

  it('a batch that cannot be prepared ahead is prepared again in turn: nothing is lost or sent twice', async () => {
    let failures = 1;
    const s = gatedSink(undefined, (steps) => steps[0] === 1 && failures-- > 0);
    const e = new BoundedEmitter(s.sink, quiet({ maxBatch: 3 }));
    for (let i = 0; i < 5; i++) await e.emit(event(i));
    for (let k = 0; k < 20 && s.sent.length < 5; k++) {
      s.releaseAll();
      await settle();
    }
    await e.flush();
    expect(s.sent).toEqual([0, 1, 2, 3, 4]);
    expect(s.trace).toEqual(['prepare 0', 'send 0', 'prepare 1,2,3', 'send 1,2,3', 'prepare 4', 'send 4']);
    expect(e.stats.failedSends).toBe(0);
  });
});
