// Rows of every column type, different for every row: what the store contract and the rollup
// specs insert when only the types matter.
import type { StoreRow } from './store.ts';
import { TABLES, type Column, type TableName } from './tables.ts';

/** A value of a column type, different for every row i. */
export function sampleCell(col: Column, i: number): StoreRow[string] {
  const t = col.type;
  if (col.name === 'seq') return i + 1;
  if (col.name === 'ts_ms') return 1_700_000_000_000 + i * 1000;
  if (t.startsWith('Nullable(')) return i % 3 === 0 ? null : sampleCell({ ...col, type: t.slice(9, -1) }, i);
  if (t === 'String') return `${col.name}-${i}`;
  if (t === 'Float64') return i + 0.25;
  if (/^U?Int\d+$/.test(t)) return i;
  if (t === 'Array(String)') return [`a${i}`, `b${i}`];
  if (t === 'Array(Float64)') return [i, i + 0.5];
  if (t === 'Array(UInt32)') return [i, i + 1];
  if (t === 'Array(Array(Float64))') return [[i], [i, 2]];
  throw new Error(`no sample for ${t}`);
}

export function sampleRows(table: TableName, n: number): StoreRow[] {
  const cols = TABLES[table].columns.filter((c) => c.default === undefined);
  return Array.from({ length: n }, (_, i) => Object.fromEntries(cols.map((c) => [c.name, sampleCell(c, i)])));
}

