import { describe, expect, it } from 'vitest';
import { sweepPoints } from './grid.ts';
import { parseRerun } from './rerun.ts';

const points = sweepPoints({ axes: ['a=1,2,3', 'b=x,y'] });
const keys = ['a', 'b'];
const picked = (filters: string[]) => points.filter(parseRerun(filters, keys)!).map((p) => p.overrides.join(' '));

describe('--rerun', () => {
  it('selects all, by one key, by several values, and by several filters at once', () => {
    expect(parseRerun([], keys)).toBeNull();
    expect(picked(['all'])).toHaveLength(6);
    expect(picked(['a=2'])).toEqual(['a=2 b=x', 'a=2 b=y']);
    expect(picked(['a=1,3'])).toEqual(['a=1 b=x', 'a=1 b=y', 'a=3 b=x', 'a=3 b=y']);
    expect(picked(['a=1,3', 'b=y'])).toEqual(['a=1 b=y', 'a=3 b=y']);
  });

  it('names the mistake', () => {
    expect(() => parseRerun(['c=1'], keys)).toThrow(/c is not swept \(swept: a, b\)/);
    expect(() => parseRerun(['oops'], keys)).toThrow(/write --rerun all, or --rerun key=value/);
    expect(() => parseRerun(['all', 'a=1'], keys)).toThrow(/give it alone/);
  });
});
