// Rows -> the RowBinary body of an insert, in the table's column order, with errors that name
// the table, row and column. Both stores send this body (see row-binary.ts for why binary).
//
// Each table's encoder is compiled once into a function that reads the row's columns by name
// (`row.step`, not `row[name]` with the name from a list): for rows of one shape (ingest's
// projection.ts makes them so) V8 loads each column from a known offset, where `row[name]` over
// a list of names was a generic lookup per cell (half the encoding). The compiled code writes the
// common case of each column inline (a string, a number, null); anything else goes to the
// column's ValueWriter (row-binary.ts), which writes the rarer forms and words every error, so
// both paths take the same values and fail the same way.
import { TABLES, insertColumns, type TableName } from './tables.ts';
import { ByteWriter, intRange, parseColumnType, valueWriter, type ColumnType, type ValueWriter } from './row-binary.ts';
import type { StoreRow } from './store.ts';

interface Cell {
  name: string;
  type: string;
  nullable: boolean;
  write: ValueWriter;
}

/** Writes one cell the general way: called by the compiled code for any value it does not inline. */
type SlowPath = (out: ByteWriter, v: unknown, row: number, cell: number) => void;
type Compiled = (
  rows: StoreRow[],
  out: ByteWriter,
  slow: SlowPath,
  missing: (row: number, cell: number) => never,
  unknown: (row: StoreRow, index: number) => void,
) => void;

interface TableEncoder {
  /** The insert's columns, in the order the rows are written. */
  columns: string[];
  encode(rows: StoreRow[], out: ByteWriter): void;
}

const encoders = new Map<TableName, TableEncoder>();

/**
 * A JS condition under which `x` is written inline, and the statement that writes it; undefined
 * for types always left to the ValueWriter. Integers outside the safe range, booleans, bigints
 * and byte strings take the general path: they are rare, and it checks their ranges.
 */
function inline(t: ColumnType, x: string): { when: string; write: string } | undefined {
  switch (t.kind) {
    case 'string':
      return { when: `typeof ${x} === 'string'`, write: `out.utf8(${x});` };
    case 'float':
      return { when: `typeof ${x} === 'number'`, write: t.bytes === 8 ? `out.f64(${x});` : `out.f32(${x});` };
    case 'int': {
      // Within the type's range and exact as a double: the same values intWriter takes as numbers.
      const [lo, hi] = intRange(t.bytes, t.signed);
      const range = t.bytes === 8 ? `Number.isSafeInteger(${x})${t.signed ? '' : ` && ${x} >= 0`}` : `Number.isInteger(${x}) && ${x} >= ${lo} && ${x} <= ${hi}`;
      return { when: `typeof ${x} === 'number' && ${range}`, write: `out.int(${x}, ${t.bytes}, ${t.signed});` };
    }
    default:
      return undefined;
  }
}

/** The compiled statements for column `c`, whose value is in `v`. */
function cellSource(t: ColumnType, c: number): string {
  const slow = `slow(out, v, i, ${c});`;
  if (t.kind === 'nullable') {
    const inner = inline(t.inner, 'v');
    if (!inner) return slow;
    return `if (v === null || v === undefined) out.u8(1); else if (${inner.when}) { out.u8(0); ${inner.write} } else ${slow}`;
  }
  if (t.kind === 'array') {
    const inner = inline(t.inner, 'v[j]');
    if (!inner) return slow;
    // Checked whole before a byte is written, so the general path can start the array afresh.
    return (
      `if (Array.isArray(v)) { let j = 0; for (; j < v.length; j++) if (!(${inner.when})) break; ` +
      `if (j === v.length) { out.varUInt(v.length); for (j = 0; j < v.length; j++) ${inner.write} } else ${slow} } else ${slow}`
    );
  }
  const own = inline(t, 'v');
  return own ? `if (${own.when}) ${own.write} else ${slow}` : slow;
}

function compile(cells: Cell[], types: ColumnType[]): Compiled {
  const body = [
    'for (let i = 0; i < rows.length; i++) {',
    '  const row = rows[i];',
    '  let v;',
    '  let defined = 0;',
    ...cells.map((cell, c) =>
      [
        `  v = row[${JSON.stringify(cell.name)}];`,
        cell.nullable ? '  if (v !== undefined) defined++;' : `  if (v === undefined) missing(i, ${c}); else defined++;`,
        `  ${cellSource(types[c]!, c)}`,
      ].join('\n'),
    ),
    // A column the table does not have: the row has more keys than the columns it filled. Counted
    // with for-in, which allocates nothing (Object.keys per row was a third of the encoding).
    '  let keys = 0;',
    '  for (const _ in row) keys++;',
    '  if (keys !== defined) unknown(row, i);',
    '}',
  ].join('\n');
  // The source is built from the table specs in tables.ts (names JSON-quoted), never from input.
  return new Function('rows', 'out', 'slow', 'missing', 'unknown', body) as Compiled;
}

function tableEncoder(table: TableName): TableEncoder {
  const cached = encoders.get(table);
  if (cached) return cached;
  const spec = TABLES[table];
  if (!spec) throw new Error(`unknown table ${table}`);
  const columns = insertColumns(table);
  const known = new Set(columns);
  const types = columns.map((name) => parseColumnType(spec.columns.find((c) => c.name === name)!.type));
  const cells: Cell[] = columns.map((name, c) => ({
    name,
    type: types[c]!.name,
    nullable: types[c]!.kind === 'nullable',
    write: valueWriter(types[c]!),
  }));
  const compiled = compile(cells, types);
  const slow: SlowPath = (out, v, i, c) => cells[c]!.write(out, v as never, () => `${table} row ${i} column ${cells[c]!.name}`);
  const missing = (i: number, c: number): never => {
    throw new Error(`${table} row ${i}: missing value for column ${cells[c]!.name} (${cells[c]!.type})`);
  };
  const unknown = (row: StoreRow, i: number) => {
    for (const k of Object.keys(row)) if (!known.has(k)) throw new Error(`${table} row ${i}: unknown column ${k}`);
  };
  const encoder: TableEncoder = { columns, encode: (rows, out) => compiled(rows, out, slow, missing, unknown) };
  encoders.set(table, encoder);
  return encoder;
}

/** The column list and RowBinary body for `INSERT INTO t (columns) FORMAT RowBinary`. */
export function encodeRows(table: TableName, rows: StoreRow[]): { columns: string[]; body: Buffer } {
  const { columns, encode } = tableEncoder(table);
  // Steps rows are ~200 bytes; a close first guess saves most regrowth copies.
  const out = new ByteWriter(rows.length * 256);
  encode(rows, out);
  return { columns, body: out.written() };
}
