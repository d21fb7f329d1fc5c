import { describe, expect, it } from 'vitest';
import { sqlIdent, sqlNumber, sqlString } from './sql.ts';

describe('SQL literals', () => {
  it('quotes strings so no value can end the literal', () => {
    expect(sqlString("it's")).toBe("'it\\'s'");
    expect(sqlString('back\\slash')).toBe("'back\\\\slash'");
    expect(sqlString("x' OR 1=1 --")).toBe("'x\\' OR 1=1 --'");
    expect(sqlString('a\nb\tc\0')).toBe("'a\\nb\\tc\\0'");
  });

  it('writes numbers including non-finite ones', () => {
    expect([1.5, NaN, Infinity, -Infinity].map(sqlNumber)).toEqual(['1.5', 'nan', 'inf', '-inf']);
  });

  it('accepts plain identifiers and refuses anything else', () => {
    expect(sqlIdent('grokstream_1')).toBe('grokstream_1');
    for (const bad of ['1abc', 'a-b', 'a;DROP', '', 'a b', '`x`']) expect(() => sqlIdent(bad)).toThrow(/plain identifier/);
  });
});
