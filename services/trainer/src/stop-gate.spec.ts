import { describe, expect, it } from 'vitest';
import { StopGate } from './stop-gate.ts';

/** A gate on a fake clock: each pause advances it 1 ms and lets `onPause` move the detector. */
function gate(lag: number, timeoutMs = 50, onPause: (now: number) => void = () => {}) {
  let now = 0;
  let judged: number | undefined;
  const lines: string[] = [];
  const g = new StopGate({
    lag,
    timeoutMs,
    judgedThrough: () => judged,
    log: (l) => lines.push(l),
    now: () => now,
    pause: async () => {
      now += 1;
      onPause(now);
    },
  });
  return { g, lines, judge: (s: number | undefined) => (judged = s), clock: () => now };
}

describe('StopGate', () => {
  it('lets step s start once the detector has judged step s - 1 - lag', async () => {
    const t = gate(1);
    expect(t.g.needFor(5)).toBe(3);
    // Steps 1 and 2 need nothing judged (lag 1: step 2 needs step 0).
    await t.g.before(1);
    await t.g.before(2);
    expect(t.clock()).toBe(0);
    t.judge(3);
    await t.g.before(5);
    expect(t.clock()).toBe(0);
    expect(t.g.waitedMs).toBe(0);
  });

  it('waits for the verdict, then goes on: lag 0 is lockstep', async () => {
    const t = gate(0, 1000, (now) => {
      if (now === 7) t.judge(4); // the detector's verdict on step 4 arrives 7 ms in
      if (now === 10) t.judge(5);
    });
    await t.g.before(5);
    expect(t.clock()).toBe(7);
    expect(t.g.waitedMs).toBe(7);
    // Step 6 needs step 5 judged: it waits again, for 3 ms.
    await t.g.before(6);
    expect(t.clock()).toBe(10);
    expect(t.g.waitedMs).toBe(10);
    expect(t.lines).toEqual([]);
  });

  it('opens after the timeout, says why, and closes again when verdicts move', async () => {
    const t = gate(1, 20);
    t.judge(2);
    await t.g.before(10); // needs 8: none comes
    expect(t.clock()).toBe(20);
    expect(t.lines).toEqual([expect.stringMatching(/no detector has judged step 8 within 20 ms \(judged through step 2\): training on without waiting.*grokstream detect/)]);
    // Open: the next steps do not wait.
    await t.g.before(11);
    await t.g.before(12);
    expect(t.clock()).toBe(20);
    // A verdict moves: closed again, and the next step waits for its own.
    t.judge(9);
    const before = t.clock();
    await t.g.before(13); // needs 11
    expect(t.clock() - before).toBe(20);
    expect(t.lines[1]).toMatch(/verdicts again \(judged through step 9\); stops land within 1 step of their trigger again/);
    expect(t.lines[2]).toMatch(/no detector has judged step 11/);
    expect(t.g.waitedMs).toBe(40);
  });

  it('with no detector at all: one timeout, then ungated', async () => {
    const t = gate(1, 10);
    for (let s = 1; s <= 20; s++) await t.g.before(s);
    expect(t.clock()).toBe(10);
    expect(t.lines).toHaveLength(1);
    expect(t.lines[0]).toMatch(/judged through none/);
  });

  it('stops waiting the moment a stop is pending: the caller obeys it', async () => {
    const t = gate(1, 1000);
    let stop = false;
    const waiting = t.g.before(10, () => stop);
    stop = true;
    await waiting;
    expect(t.clock()).toBeLessThanOrEqual(1);
    expect(t.lines).toEqual([]);
  });

  it('refuses a negative or fractional lag and a timeout that is not positive', () => {
    const o = { judgedThrough: () => undefined, log: () => {} };
    expect(() => new StopGate({ ...o, lag: -1, timeoutMs: 10 })).toThrow(/lag must be a whole number ≥ 0, got -1/);
    expect(() => new StopGate({ ...o, lag: 0.5, timeoutMs: 10 })).toThrow(/got 0.5/);
    expect(() => new StopGate({ ...o, lag: 1, timeoutMs: 0 })).toThrow(/timeout must be > 0 ms, got 0/);
  });
});
