// The checkpoint step on its own: when it is due, and what a saved checkpoint records.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AnyEvent } from '@grokstream/schemas';
import { tf } from './tf.ts';
import { useTestBackend } from './testing-backend.ts';
import { mlp } from './models/mlp.ts';
import { optimizer } from './optim/optimizer.ts';
import { Rng } from './random.ts';
import { BoundedEmitter } from './emitter.ts';
import { RunCursor } from './run-cursor.ts';
import { Checkpointer } from './checkpointing.ts';
import { latestCheckpoint, loadCheckpoint } from './checkpoint.ts';

await useTestBackend();
await tf.ready();

describe('Checkpointer', () => {
  const model = mlp({ inputDim: 4, outputDim: 2, hidden: [3], activation: 'relu', bias: true, initScale: 1, seed: 1 });
  const opt = optimizer(model.params, { kind: 'adamw', momentum: 0, nesterov: false, beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0 });
  afterAll(() => {
    opt.dispose();
    model.dispose();
  });
  const make = (every: number) => {
    const events: AnyEvent[] = [];
    const cursor = new RunCursor('ckpt-test');
    const dir = mkdtempSync(join(tmpdir(), 'grokstream-ckpt-'));
    const emitter = new BoundedEmitter(async (e) => void events.push(...e), { capacity: 100, outageLimitMs: 1000, log: () => {} });
    const c = new Checkpointer({ dir, every, steps: 10, model, opt, orderRng: new Rng(9), obeyed: new Set(['cmd-1']), configJson: '{"x":1}', emitter, cursor });
    return { c, cursor, dir, events, emitter };
  };

  it('is due every `every` steps but not at the last step (the final checkpoint follows), never with every = 0', () => {
    const { c, cursor } = make(4);
    const due = [];
    for (let s = 1; s <= 10; s++) {
      cursor.step = s;
      if (c.due) due.push(s);
    }
    expect(due).toEqual([4, 8]);
    const off = make(0);
    off.cursor.step = 10;
    expect(off.c.due).toBe(false);
  });

  it('saves the step, the seq to continue from, the batch-order state and the obeyed commands; announces it', async () => {
    const { c, cursor, dir, events, emitter } = make(4);
    cursor.step = 8;
    cursor.seq = 20;
    await c.save(true);
    await emitter.flush();
    expect(c.lastStep).toBe(8);
    expect(events.map((e) => e.name)).toEqual(['Checkpointed']);
    expect(events[0]!.value).toMatchObject({ seq: 20, step: 8 });
    const latest = latestCheckpoint(dir, 'ckpt-test')!;
    const { state, data } = loadCheckpoint(latest);
    // Checkpointed took seq 20 and RunFinished (final) takes 21: a resume starts at 22.
    expect(state).toMatchObject({ runId: 'ckpt-test', step: 8, nextSeq: 22, orderRng: new Rng(9).snapshot, obeyedCommands: ['cmd-1'], configJson: '{"x":1}' });
    expect(data.length).toBe(model.params.length + opt.state().slots.length);
    // Not announced (a step already on the log): no event, and no seq taken.
    await c.save(false, false);
    expect(events.length).toBe(1);
    expect(loadCheckpoint(latestCheckpoint(dir, 'ckpt-test')!).state.nextSeq).toBe(21);
  });

  it('commits a periodic checkpoint only once every event up to it is on the bus; past the outage limit at once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const events: AnyEvent[] = [];
    const cursor = new RunCursor('ckpt-gate');
    const dir = mkdtempSync(join(tmpdir(), 'grokstream-ckpt-'));
    const emitter = new BoundedEmitter(
      async (e) => {
        await gate;
        events.push(...e);
      },
      { capacity: 100, outageLimitMs: 60_000, log: () => {} },
    );
    const c = new Checkpointer({ dir, every: 4, steps: 10, model, opt, orderRng: new Rng(9), obeyed: new Set(), configJson: '{}', emitter, cursor });
    cursor.step = 4;
    await c.save(false);
    // On disk, but not a checkpoint a resume would pick while its events are still in the buffer.
    expect(latestCheckpoint(dir, 'ckpt-gate')).toBeUndefined();
    release();
    await emitter.flush();
    await c.settled();
    expect(latestCheckpoint(dir, 'ckpt-gate')).toMatch(/step-00000004$/);
    cursor.step = 6;
    await c.save(false, true, 'now');
    expect(latestCheckpoint(dir, 'ckpt-gate')).toMatch(/step-00000006$/);
  });
});
