// ClickHouse RowBinary encoding of values, shared by both stores. Binary, so every Float64
// arrives bit for bit (NaN, ±Inf, -0, subnormals): ClickHouse 18.16 parses some decimal text
// 1 ulp off (docs/architecture.md, "Machines and limits"), so text formats cannot promise that.
//
// Layout (https://clickhouse.com/docs/en/interfaces/formats#rowbinary), all little-endian:
// integers and floats at their width; String = LEB128 length + bytes; Nullable = 1 byte
// (1 = NULL, nothing follows; 0 = the value follows); Array = LEB128 count + elements;
// DateTime = UInt32 seconds; Date = UInt16 days.

export type CellValue = string | number | bigint | boolean | null | Buffer | CellValue[];

/** A column type as the encoder understands it. */
export type ColumnType =
  | { kind: 'int'; name: string; bytes: 1 | 2 | 4 | 8; signed: boolean }
  | { kind: 'float'; name: string; bytes: 4 | 8 }
  | { kind: 'string'; name: string }
  | { kind: 'fixed-string'; name: string; length: number }
  | { kind: 'date'; name: string }
  | { kind: 'datetime'; name: string }
  | { kind: 'nullable'; name: string; inner: ColumnType }
  | { kind: 'array'; name: string; inner: ColumnType };

const INTS: Record<string, { bytes: 1 | 2 | 4 | 8; signed: boolean }> = {
  UInt8: { bytes: 1, signed: false },
  UInt16: { bytes: 2, signed: false },
  UInt32: { bytes: 4, signed: false },
  UInt64: { bytes: 8, signed: false },
  Int8: { bytes: 1, signed: true },
  Int16: { bytes: 2, signed: true },
  Int32: { bytes: 4, signed: true },
  Int64: { bytes: 8, signed: true },
};

/** Parses a ClickHouse type name; refuses types the encoder cannot write rather than guessing. */
export function parseColumnType(type: string): ColumnType {
  const name = type.trim();
  const wrapped = /^(Nullable|Array|LowCardinality|FixedString|DateTime)\((.*)\)$/.exec(name);
  if (wrapped) {
    const [, wrapper, arg] = wrapped as unknown as [string, string, string];
    if (wrapper === 'Nullable') return { kind: 'nullable', name, inner: parseColumnType(arg) };
    if (wrapper === 'Array') return { kind: 'array', name, inner: parseColumnType(arg) };
    // LowCardinality(T) is written exactly like T in RowBinary.
    if (wrapper === 'LowCardinality') return parseColumnType(arg);
    if (wrapper === 'DateTime' && /^'[^']*'$/.test(arg.trim())) return { kind: 'datetime', name };
    if (wrapper === 'FixedString' && /^\d+$/.test(arg.trim())) return { kind: 'fixed-string', name, length: Number(arg) };
  }
  const int = INTS[name];
  if (int) return { kind: 'int', name, ...int };
  if (name === 'Float32') return { kind: 'float', name, bytes: 4 };
  if (name === 'Float64') return { kind: 'float', name, bytes: 8 };
  if (name === 'String') return { kind: 'string', name };
  if (name === 'Date') return { kind: 'date', name };
  if (name === 'DateTime') return { kind: 'datetime', name };
  throw new Error(`RowBinary: unsupported column type ${type}`);
}

/** A growable little-endian byte buffer. */
export class ByteWriter {
  private buf: Buffer;
  private view: DataView;
  private pos = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialBytes));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  get length(): number {
    return this.pos;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.pos++] = v;
  }

  /** LEB128, as RowBinary writes lengths. */
  varUInt(v: number): void {
    this.reserve(10);
    let n = v;
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  int(v: number | bigint, bytes: 1 | 2 | 4 | 8, signed: boolean): void {
    this.reserve(bytes);
    const at = this.pos;
    this.pos += bytes;
    if (bytes === 8) {
      if (typeof v === 'number' && Number.isSafeInteger(v) && (signed || v >= 0)) {
        // Without a BigInt per value (steps, seqs and timestamps are most of a row): the low and
        // high 32 bits of the two's complement, v = hi * 2^32 + lo with 0 <= lo < 2^32.
        this.view.setUint32(at, v >>> 0, true);
        this.view.setUint32(at + 4, Math.floor(v / 0x100000000) >>> 0, true);
        return;
      }
      const big = typeof v === 'bigint' ? v : BigInt(v);
      if (signed) this.view.setBigInt64(at, big, true);
      else this.view.setBigUint64(at, big, true);
      return;
    }
    const n = Number(v);
    if (bytes === 1) this.view.setUint8(at, n & 0xff);
    else if (bytes === 2) this.view.setUint16(at, n & 0xffff, true);
    else this.view.setUint32(at, n >>> 0, true);
  }

  f32(v: number): void {
    this.reserve(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  f64(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  utf8(s: string): void {
    // At most 3 bytes per UTF-16 unit; written in place, then the length is known.
    const max = s.length * 3;
    if (max < 0x80) {
      this.reserve(1 + max);
      const lenAt = this.pos++;
      const n = this.buf.write(s, this.pos, 'utf8');
      this.buf[lenAt] = n;
      this.pos += n;
      return;
    }
    const b = Buffer.from(s, 'utf8');
    this.varUInt(b.length);
    this.bytes(b);
  }

  /** The bytes written so far (a copy, so the writer can be reused). */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  /** The bytes written so far, without a copy: for a writer that is done with. */
  written(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Writes one value of a type; `where` names the cell in errors. */
export type ValueWriter = (out: ByteWriter, v: CellValue | undefined, where: () => string) => void;

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Buffer.isBuffer(v)) return `bytes(${v.length})`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** The smallest and largest value of an integer type. */
export function intRange(bytes: number, signed: boolean): [bigint, bigint] {
  const bits = BigInt(bytes * 8);
  return signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
}

function intWriter(t: Extract<ColumnType, { kind: 'int' }>): ValueWriter {
  const [min, max] = intRange(t.bytes, t.signed);
  const minN = Number(min);
  const maxN = Number(max);
  return (out, v, where) => {
    if (typeof v === 'boolean') return out.int(v ? 1 : 0, t.bytes, t.signed);
    if (typeof v === 'number' && Number.isInteger(v) && v >= minN && v <= maxN) {
      // Doubles at the range's edge (2^64 rounds up) are caught by the bigint check below.
      if (t.bytes < 8 || Number.isSafeInteger(v)) return out.int(v, t.bytes, t.signed);
      const big = BigInt(v);
      if (big >= min && big <= max) return out.int(big, t.bytes, t.signed);
    }
    if (typeof v === 'bigint' && v >= min && v <= max) return out.int(v, t.bytes, t.signed);
    throw new Error(`${where()}: ${t.name} expects an integer in [${min}, ${max}], got ${describeValue(v)}`);
  };
}

function floatWriter(t: Extract<ColumnType, { kind: 'float' }>): ValueWriter {
  return (out, v, where) => {
    if (typeof v !== 'number') throw new Error(`${where()}: ${t.name} expects a number, got ${describeValue(v)}`);
    if (t.bytes === 8) out.f64(v);
    else out.f32(v);
  };
}

function stringWriter(t: ColumnType): ValueWriter {
  return (out, v, where) => {
    if (typeof v === 'string') return out.utf8(v);
    if (Buffer.isBuffer(v)) {
      out.varUInt(v.length);
      return out.bytes(v);
    }
    throw new Error(`${where()}: ${t.name} expects a string or bytes, got ${describeValue(v)}`);
  };
}

function fixedStringWriter(t: Extract<ColumnType, { kind: 'fixed-string' }>): ValueWriter {
  return (out, v, where) => {
    const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.isBuffer(v) ? v : undefined;
    if (!b || b.length > t.length) {
      throw new Error(`${where()}: ${t.name} expects at most ${t.length} bytes, got ${describeValue(v)}`);
    }
    out.bytes(b);
    // Shorter values are zero-padded, as ClickHouse pads them.
    for (let i = b.length; i < t.length; i++) out.u8(0);
  };
}

/** DateTime: whole seconds since the epoch. */
function dateTimeWriter(t: ColumnType): ValueWriter {
  return (out, v, where) => {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return out.int(v, 4, false);
    throw new Error(`${where()}: ${t.name} expects whole seconds since 1970 (0..2^32-1), got ${describeValue(v)}`);
  };
}

/** Date: whole days since the epoch. */
function dateWriter(t: ColumnType): ValueWriter {
  return (out, v, where) => {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff) return out.int(v, 2, false);
    throw new Error(`${where()}: ${t.name} expects whole days since 1970 (0..65535), got ${describeValue(v)}`);
  };
}

/** Compiles a writer for one column type, once per table rather than once per value. */
export function valueWriter(type: ColumnType): ValueWriter {
  switch (type.kind) {
    case 'int':
      return intWriter(type);
    case 'float':
      return floatWriter(type);
    case 'string':
      return stringWriter(type);
    case 'fixed-string':
      return fixedStringWriter(type);
    case 'date':
      return dateWriter(type);
    case 'datetime':
      return dateTimeWriter(type);
    case 'nullable': {
      const inner = valueWriter(type.inner);
      return (out, v, where) => {
        if (v === null || v === undefined) return out.u8(1);
        out.u8(0);
        inner(out, v, where);
      };
    }
    case 'array': {
      const inner = valueWriter(type.inner);
      return (out, v, where) => {
        if (!Array.isArray(v)) throw new Error(`${where()}: ${type.name} expects an array, got ${describeValue(v)}`);
        out.varUInt(v.length);
        let i = 0;
        try {
          for (; i < v.length; i++) inner(out, v[i], where);
        } catch (err) {
          // Written again to word the error with the element's index: a closure per element
          // only for that was a tenth of the encoding. A writer is a function of its value, so
          // the same element fails the same way; should it not, the first error stands.
          inner(new ByteWriter(16), v[i], () => `${where()}[${i}]`);
          throw err;
        }
      };
    }
  }
}
