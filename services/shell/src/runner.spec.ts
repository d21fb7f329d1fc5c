import { describe, expect, it } from 'vitest';
import { Interrupted } from './errors.ts';
import { createLogger } from './logger.ts';
import { serve, type Interruption } from './runner.ts';

function fakeInterruption(): Interruption & { fire(sig: string): void } {
  const c = new AbortController();
  return { signal: c.signal, dispose: () => {}, fire: (sig) => c.abort(sig) };
}

describe('serve', () => {
  it('starts, reports progress when it changes, stops cleanly on the signal and ends as Interrupted', async () => {
    const lines: string[] = [];
    const log = createLogger('info', (l) => lines.push(l));
    const calls: string[] = [];
    let n = 0;
    const interruption = fakeInterruption();
    const done = serve(
      'svc',
      {
        start: async () => void calls.push('start'),
        stop: async () => void calls.push('stop'),
        status: () => `svc: ${Math.min(2, n++)} things`,
      },
      { log, interruption, statusEveryMs: 5 },
    );
    await new Promise((r) => setTimeout(r, 60));
    interruption.fire('SIGTERM');
    const err = await done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Interrupted);
    expect((err as Interrupted).signal).toBe('SIGTERM');
    expect(calls).toEqual(['start', 'stop']);
    // Unchanged lines are not repeated.
    expect(lines.filter((l) => l === 'svc: 2 things')).toHaveLength(1);
    expect(lines.at(-1)).toMatch(/^svc: stopped; svc: 2 things$/);
  });

  it('does not stop what never started, and passes the start error on', async () => {
    const calls: string[] = [];
    const err = await serve(
      'svc',
      { start: async () => Promise.reject(new Error('Kafka at 127.0.0.1:1 did not answer')), stop: async () => void calls.push('stop') },
      { log: createLogger('error', () => {}), interruption: fakeInterruption() },
    ).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/did not answer/);
    expect(calls).toEqual([]);
  });
});

describe('logger', () => {
  it('filters by level and redacts every line', () => {
    const lines: string[] = [];
    const log = createLogger('warn', (l) => lines.push(l));
    log.debug('hidden');
    log.info('hidden too');
    log.warn('connect http://u:pw@host:1 failed');
    log.log('error', 'boom');
    expect(lines).toEqual(['connect http://u:***@host:1 failed', 'boom']);
  });
});
