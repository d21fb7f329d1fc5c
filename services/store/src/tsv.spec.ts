import { describe, expect, it } from 'vitest';
import { formatCell, formatNumber, formatRows } from './tsv.ts';

describe('TabSeparated encoding', () => {
  it('writes non-finite numbers the way ClickHouse reads them', () => {
    expect([NaN, Infinity, -Infinity].map(formatNumber)).toEqual(['nan', 'inf', '-inf']);
    expect(formatNumber(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(formatNumber(-0)).toBe('0');
    expect(formatNumber(1e-300)).toBe('1e-300');
  });

  it('escapes the characters TSV gives meaning to', () => {
    expect(formatCell('a\tb\nc\\d\re\0f\'g')).toBe("a\\tb\\nc\\\\d\\re\\0f\\'g");
  });

  it('writes NULL, booleans, nested arrays with quoted strings', () => {
    expect(formatCell(null)).toBe('\\N');
    expect(formatCell(true)).toBe('1');
    expect(formatCell([1, NaN, -Infinity])).toBe('[1,nan,-inf]');
    expect(formatCell(['x', "it's"])).toBe("['x','it\\'s']");
    expect(formatCell([[1], [], [Infinity]])).toBe('[[1],[],[inf]]');
    expect(formatCell([null, 'a'])).toBe("[NULL,'a']");
  });

  it('writes bytes that are not printable ASCII as \\x escapes', () => {
    expect(formatCell(Buffer.from([0x41, 0x00, 0xff, 0x5c, 0x27]))).toBe("A\\x00\\xff\\x5c\\x27");
  });

  it('joins cells with tabs and rows with newlines', () => {
    expect(formatRows([[1, 'a'], [2, null]])).toBe('1\ta\n2\t\\N\n');
  });
});
