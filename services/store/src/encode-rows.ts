// Rows -> the RowBinary body of an insert, in the table's column order, with errors that name
// the table, row and column. Both stores send this body (see row-binary.ts for why binary).
import { TABLES, insertColumns, type TableName } from './tables.ts';
import { ByteWriter, parseColumnType, valueWriter, type ValueWriter } from './row-binary.ts';
import type { StoreRow } from './store.ts';

interface TableEncoder {
  columns: string[];
  known: Set<string>;
  cells: Array<{ name: string; type: string; nullable: boolean; write: ValueWriter }>;
}

const encoders = new Map<TableName, TableEncoder>();

function tableEncoder(table: TableName): TableEncoder {
  const cached = encoders.get(table);
  if (cached) return cached;
  const spec = TABLES[table];
  if (!spec) throw new Error(`unknown table ${table}`);
  const columns = insertColumns(table);
  const cells = columns.map((name) => {
    const type = spec.columns.find((c) => c.name === name)!.type;
    const parsed = parseColumnType(type);
    return { name, type, nullable: parsed.kind === 'nullable', write: valueWriter(parsed) };
  });
  const encoder = { columns, known: new Set(columns), cells };
  encoders.set(table, encoder);
  return encoder;
}

/** The column list and RowBinary body for `INSERT INTO t (columns) FORMAT RowBinary`. */
export function encodeRows(table: TableName, rows: StoreRow[]): { columns: string[]; body: Buffer } {
  const { columns, known, cells } = tableEncoder(table);
  // Steps rows are ~200 bytes; a close first guess saves most regrowth copies.
  const out = new ByteWriter(rows.length * 256);
  // One closure for the whole call, reading the cell being written: a closure per cell was a
  // tenth of the encoding, and it is only ever called to word an error.
  let i = 0;
  let c = 0;
  const where = () => `${table} row ${i} column ${cells[c]!.name}`;
  for (; i < rows.length; i++) {
    const row = rows[i]!;
    let defined = 0;
    for (c = 0; c < cells.length; c++) {
      const cell = cells[c]!;
      const v = row[cell.name];
      if (v === undefined) {
        if (!cell.nullable) throw new Error(`${table} row ${i}: missing value for column ${cell.name} (${cell.type})`);
      } else defined++;
      cell.write(out, v, where);
    }
    // A column the table does not have: the row has more keys than the columns it filled. Counted
    // with for-in, which allocates nothing (Object.keys per row was a third of the encoding).
    let keys = 0;
    for (const _ in row) keys++;
    if (keys !== defined) {
      for (const k of Object.keys(row)) if (!known.has(k)) throw new Error(`${table} row ${i}: unknown column ${k}`);
    }
  }
  return { columns, body: out.toBuffer() };
}
