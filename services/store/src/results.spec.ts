import { describe, expect, it } from 'vitest';
import { decodeJsonResult } from './results.ts';

const result = (meta: Array<[string, string]>, data: unknown[]) =>
  JSON.stringify({ meta: meta.map(([name, type]) => ({ name, type })), data });

describe('decodeJsonResult', () => {
  it('turns quoted denormals back into numbers, in scalars, nullables and nested arrays', () => {
    const text = result(
      [
        ['a', 'Float64'],
        ['b', 'Nullable(Float64)'],
        ['c', 'Array(Float64)'],
        ['d', 'Array(Array(Float64))'],
        ['e', 'Float32'],
      ],
      [{ a: 'nan', b: null, c: ['inf', 1.5, '-inf'], d: [['nan'], []], e: '-inf' }],
    );
    expect(decodeJsonResult(text)).toEqual([{ a: NaN, b: null, c: [Infinity, 1.5, -Infinity], d: [[NaN], []], e: -Infinity }]);
  });

  it('leaves strings that look like nan alone', () => {
    expect(decodeJsonResult(result([['s', 'String']], [{ s: 'nan' }]))).toEqual([{ s: 'nan' }]);
  });

  it('reads quoted 64-bit integers as numbers when safe, else as bigint', () => {
    const text = result(
      [
        ['n', 'UInt64'],
        ['big', 'Int64'],
      ],
      [{ n: '42', big: '9223372036854775807' }],
    );
    expect(decodeJsonResult(text)).toEqual([{ n: 42, big: 9223372036854775807n }]);
  });

  it('returns no rows for an empty answer', () => {
    expect(decodeJsonResult('')).toEqual([]);
  });
});
