import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ByteWriter, parseColumnType, valueWriter, type CellValue } from './row-binary.ts';

/** The RowBinary bytes of one value of a type, as hex. */
function encode(type: string, value: CellValue): string {
  const out = new ByteWriter(16);
  valueWriter(parseColumnType(type))(out, value, () => 'cell');
  return out.toBuffer().toString('hex');
}

const f64 = (x: number) => Buffer.from(new Float64Array([x]).buffer).toString('hex');

describe('RowBinary encoding', () => {
  it('writes integers little-endian at their width, from numbers, bigints and booleans', () => {
    expect(encode('UInt8', 1)).toBe('01');
    expect(encode('UInt8', true)).toBe('01');
    expect(encode('UInt8', false)).toBe('00');
    expect(encode('UInt16', 0x0102)).toBe('0201');
    expect(encode('UInt32', 0xdeadbeef)).toBe('efbeadde');
    expect(encode('Int32', -2)).toBe('feffffff');
    expect(encode('Int8', -128)).toBe('80');
    expect(encode('Int64', -1)).toBe('ffffffffffffffff');
    expect(encode('Int64', 1_700_000_000_000)).toBe('0068e5cf8b010000');
    expect(encode('UInt64', 18446744073709551615n)).toBe('ffffffffffffffff');
    expect(encode('Int64', -9223372036854775808n)).toBe('0000000000000080');
    // 2^60 is not a safe integer but is exactly that integer as a double.
    expect(encode('UInt64', 2 ** 60)).toBe('0000000000000010');
  });

  it('writes a safe-integer number at 64 bits exactly as its bigint (the path without a BigInt)', () => {
    const big = (v: bigint, signed: boolean) => {
      const b = Buffer.alloc(8);
      if (signed) b.writeBigInt64LE(v);
      else b.writeBigUInt64LE(v);
      return b.toString('hex');
    };
    for (const v of [0, 1, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, -(2 ** 32), 2 ** 32 + 7, -(2 ** 40) - 5, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      expect(encode('Int64', v), String(v)).toBe(big(BigInt(v), true));
      if (v >= 0) expect(encode('UInt64', v), String(v)).toBe(big(BigInt(v), false));
    }
  });

  it('refuses integers out of range, fractions and non-numbers, naming the cell', () => {
    expect(() => encode('UInt8', 256)).toThrow(/cell: UInt8 expects an integer in \[0, 255\], got number 256/);
    expect(() => encode('UInt32', -1)).toThrow(/UInt32 expects an integer/);
    expect(() => encode('Int64', 1.5)).toThrow(/Int64 expects an integer/);
    expect(() => encode('UInt64', 2 ** 64)).toThrow(/UInt64 expects an integer/);
    expect(() => encode('Int64', 9223372036854775808n)).toThrow(/Int64 expects an integer/);
    expect(() => encode('Int32', '7')).toThrow(/got string "7"/);
  });

  it('writes Float64 and Float32 as their IEEE bits, NaN, ±Inf, -0 and subnormals included', () => {
    expect(encode('Float64', 1)).toBe('000000000000f03f');
    expect(encode('Float64', -0)).toBe('0000000000000080');
    expect(encode('Float64', 0)).toBe('0000000000000000');
    expect(encode('Float64', NaN)).toBe('000000000000f87f');
    expect(encode('Float64', Infinity)).toBe('000000000000f07f');
    expect(encode('Float64', -Infinity)).toBe('000000000000f0ff');
    expect(encode('Float64', 5e-324)).toBe('0100000000000000');
    expect(encode('Float64', 62.47231121694875)).toBe('172aa7b1743c4f40');
    expect(encode('Float32', 1)).toBe('0000803f');
    expect(() => encode('Float64', '1.5')).toThrow(/Float64 expects a number, got string "1.5"/);
    expect(() => encode('Float64', null)).toThrow(/Float64 expects a number, got null/);
  });

  it('keeps the bits of any double', () => {
    fc.assert(
      fc.property(fc.double(), (x) => {
        expect(encode('Float64', x)).toBe(f64(x));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes strings and bytes with a LEB128 length', () => {
    expect(encode('String', '')).toBe('00');
    expect(encode('String', 'ab')).toBe('026162');
    expect(encode('String', 'ü')).toBe('02c3bc');
    expect(encode('String', Buffer.from([0x00, 0xff, 0xc3]))).toBe('0300ffc3');
    // 42 'ü' are 84 bytes (one length byte, written in place); 64 are 128 (two length bytes).
    expect(encode('String', 'ü'.repeat(42))).toBe(`54${'c3bc'.repeat(42)}`);
    expect(encode('String', 'ü'.repeat(64))).toBe(`8001${'c3bc'.repeat(64)}`);
    expect(encode('String', 'x'.repeat(16384)).slice(0, 6)).toBe('808001');
    expect(encode('String', '🚀')).toBe('04f09f9a80');
    expect(() => encode('String', 1)).toThrow(/String expects a string or bytes, got number 1/);
  });

  it('writes FixedString zero-padded, and refuses values that do not fit', () => {
    expect(encode('FixedString(3)', 'a')).toBe('610000');
    expect(encode('FixedString(2)', Buffer.from([1, 2]))).toBe('0102');
    expect(() => encode('FixedString(2)', 'abc')).toThrow(/FixedString\(2\) expects at most 2 bytes/);
  });

  it('writes Nullable as a null flag byte before the value', () => {
    expect(encode('Nullable(Float64)', null)).toBe('01');
    expect(encode('Nullable(Float64)', -0)).toBe('000000000000000080');
    expect(encode('Nullable(String)', 'a')).toBe('000161');
    expect(encode('Nullable(Int64)', null)).toBe('01');
  });

  it('writes arrays as a LEB128 count and their elements, nested and nullable', () => {
    expect(encode('Array(Float64)', [])).toBe('00');
    expect(encode('Array(Float64)', [1, NaN])).toBe(`02${f64(1)}${f64(NaN)}`);
    expect(encode('Array(Array(Float64))', [[1], [], [-Infinity]])).toBe(`0301${f64(1)}0001${f64(-Infinity)}`);
    expect(encode('Array(Nullable(String))', [null, 'a'])).toBe('0201000161');
    expect(encode('Array(UInt32)', [1, 2])).toBe('020100000002000000');
    expect(encode('Array(String)', Array.from({ length: 128 }, () => '')).slice(0, 4)).toBe('8001');
    expect(() => encode('Array(Float64)', 1)).toThrow(/Array\(Float64\) expects an array/);
    expect(() => encode('Array(Array(Float64))', [[1], ['x']])).toThrow(/cell\[1\]\[0\]: Float64 expects a number/);
  });

  it('writes DateTime as UInt32 seconds and Date as UInt16 days, any time zone', () => {
    expect(encode('DateTime', 1)).toBe('01000000');
    expect(encode("DateTime('UTC')", 1_700_000_000)).toBe('00f15365');
    expect(encode('Date', 19_000)).toBe('384a');
    expect(() => encode('DateTime', -1)).toThrow(/DateTime expects whole seconds/);
    expect(() => encode('Date', 1.5)).toThrow(/Date expects whole days/);
  });

  it('writes LowCardinality(T) as T', () => {
    expect(encode('LowCardinality(String)', 'ab')).toBe(encode('String', 'ab'));
  });

  it('refuses types it cannot write', () => {
    for (const t of ['Map(String, Float64)', 'Tuple(UInt8, String)', 'Decimal(9, 2)', 'DateTime64(3)', 'Nullable(Array(String)']) {
      expect(() => parseColumnType(t)).toThrow(/unsupported column type/);
    }
  });

  it('grows its buffer without losing what was written', () => {
    const out = new ByteWriter(16);
    for (let i = 0; i < 1000; i++) out.f64(i + 0.5);
    out.utf8('end');
    const bytes = out.toBuffer();
    expect(bytes.length).toBe(8000 + 4);
    expect(bytes.readDoubleLE(8 * 999)).toBe(999.5);
    expect(bytes.subarray(8000).toString('hex')).toBe('03656e64');
  });
});
