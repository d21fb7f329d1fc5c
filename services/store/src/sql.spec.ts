import { describe, expect, it } from 'vitest';
import { sqlIdent, sqlNumber, sqlString } from './sql.ts';

describe('SQL literals', () => {
  it('quotes strings so no value can end the literal', () => {
    expect(sqlString("it's")).toBe("'it\\'s'");
    expect(sqlString('back\\slash')).toBe("'back\\\\slash'");
    expect(sqlString("x' OR 1=1 --")).toBe("'x\\' OR 1=1 --'");
    expect(sqlString('a\nb\tc\0')).toBe("'a\\nb\\tc\\0'");
  });

  it('writes numbers including non-finite ones and -0', () => {
    expect([1.5, NaN, Infinity, -Infinity, -0, 0].map(sqlNumber)).toEqual(['1.5', 'nan', 'inf', '-inf', '-0.', '0']);
    // The shortest text that reads back as the same double.
    expect([0.1 + 0.2, 62.47231121694875, 2.2250738585072014e-308].map(sqlNumber)).toEqual([
      '0.30000000000000004',
      '62.47231121694875',
      '2.2250738585072014e-308',
    ]);
  });

  it('spells subnormals as their bytes, which 18.16 cannot parse as literals', () => {
    expect(sqlNumber(5e-324)).toBe("reinterpretAsFloat64(unhex('0100000000000000'))");
    expect(sqlNumber(-2.225073858507201e-308)).toBe("reinterpretAsFloat64(unhex('ffffffffffff0f80'))");
  });

  it('accepts plain identifiers and refuses anything else', () => {
    expect(sqlIdent('grokstream_1')).toBe('grokstream_1');
    for (const bad of ['1abc', 'a-b', 'a;DROP', '', 'a b', '`x`']) expect(() => sqlIdent(bad)).toThrow(/plain identifier/);
  });
});
