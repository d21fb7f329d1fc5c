import { describe, expect, it } from 'vitest';
import { exampleStepMetrics, type AnyEvent } from '@grokstream/schemas';
import { BoundedEmitter } from './emitter.ts';

const event = (step: number): AnyEvent => ({ name: 'StepMetrics', value: exampleStepMetrics({ run_id: 'r', step }) });

describe('BoundedEmitter', () => {
  it('ships every event in order, in batches', async () => {
    const shipped: number[][] = [];
    const e = new BoundedEmitter(async (events) => void shipped.push(events.map((x) => (x.value as { step: number }).step)), 100, () => {}, 4);
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
      3,
      (l) => logs.push(l),
      1,
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

  it('fails the next emit when the bus refuses, instead of losing events silently', async () => {
    const e = new BoundedEmitter(async () => {
      throw new Error('broker down');
    }, 10, () => {});
    await e.emit(event(0));
    await expect(e.flush()).rejects.toThrow(/bus refused events: broker down/);
    await expect(e.emit(event(1))).rejects.toThrow(/broker down/);
  });
});
