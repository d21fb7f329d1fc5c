import { describe, expect, it } from 'vitest';
import { grokkedStep } from './milestones.ts';

describe('grokkedStep', () => {
  it('is the first generalized step when it comes at or after memorization', () => {
    expect(grokkedStep(134, 511)).toBe(511);
    expect(grokkedStep(134, 134)).toBe(134);
  });

  it('is null for a run that generalized before it memorized, or did not do both', () => {
    expect(grokkedStep(300, 120)).toBeNull();
    expect(grokkedStep(null, 120)).toBeNull();
    expect(grokkedStep(134, null)).toBeNull();
  });
});
