import { describe, expect, it } from 'vitest';
import type { StopRun } from '@grokstream/schemas';
import { pendingStop } from './stops.ts';

const command = { command_id: 'c1', policy: 'patience', reason: 'no progress', issued_by: 'detector', step: 10 } as StopRun;

describe('pendingStop', () => {
  it('nothing requested: no stop', () => {
    expect(pendingStop()).toBeUndefined();
    expect(pendingStop(() => undefined, () => false)).toBeUndefined();
  });
  it('a StopRun is obeyed as early_stopped, before a signal that came too', () => {
    expect(pendingStop(() => command, () => true)).toEqual({ reason: 'early_stopped', command });
  });
  it('a signal alone interrupts', () => {
    expect(pendingStop(() => undefined, () => true)).toEqual({ reason: 'interrupted' });
  });
});
