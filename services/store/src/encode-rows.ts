import { TABLES, insertColumns, type TableName } from './tables.ts';
import { formatRows, type CellValue } from './tsv.ts';
import type { StoreRow } from './store.ts';

/** Turns rows into the TSV body of an insert, in the table's column order, with clear errors. */
export function encodeRows(table: TableName, rows: StoreRow[]): { columns: string[]; tsv: string } {
  const spec = TABLES[table];
  if (!spec) throw new Error(`unknown table ${table}`);
  const columns = insertColumns(table);
  const known = new Set(columns);
  const cells: CellValue[][] = rows.map((row, i) => {
    for (const k of Object.keys(row)) {
      if (!known.has(k)) throw new Error(`${table} row ${i}: unknown column ${k}`);
    }
    return columns.map((c) => {
      const v = row[c];
      if (v === undefined) {
        const col = spec.columns.find((x) => x.name === c)!;
        if (col.type.startsWith('Nullable(')) return null;
        throw new Error(`${table} row ${i}: missing value for column ${c} (${col.type})`);
      }
      return v;
    });
  });
  return { columns, tsv: formatRows(cells) };
}
