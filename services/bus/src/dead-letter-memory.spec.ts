import { describe, expect, it } from 'vitest';
import { DeadLetterMemory } from './dead-letter-memory.ts';

describe('DeadLetterMemory', () => {
  it('remembers (topic, partition, offset) exactly', () => {
    const m = new DeadLetterMemory();
    m.add('t', 0, '5');
    m.add('t', 0, 5);
    expect(m.size).toBe(1);
    expect(m.has('t', 0, 5)).toBe(true);
    expect(m.has('t', 0, '5')).toBe(true);
    expect(m.has('t', 1, 5)).toBe(false);
    expect(m.has('u', 0, 5)).toBe(false);
    expect(m.has('t', 0, 6)).toBe(false);
  });

  it('stays within its bound, forgetting the oldest offsets of the fullest partition first', () => {
    const m = new DeadLetterMemory(5);
    for (let o = 0; o < 4; o++) m.add('t', 0, o);
    m.add('t', 1, 100);
    m.add('t', 1, 101);
    expect(m.size).toBe(5);
    expect(m.has('t', 0, 0)).toBe(false);
    expect([1, 2, 3].every((o) => m.has('t', 0, o))).toBe(true);
    expect(m.has('t', 1, 100) && m.has('t', 1, 101)).toBe(true);
    for (let o = 0; o < 10_000; o++) m.add('t', 2, o);
    expect(m.size).toBe(5);
    expect(m.has('t', 2, 9999)).toBe(true);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new DeadLetterMemory(0)).toThrow(/positive integer/);
  });
});
