// TabSeparated encoding of values, shared by both stores. TSV keeps NaN and ±Inf exactly
// (JSON turns them into null, which ClickHouse 18.16 stores as nan: see DESIGN.md).

export type CellValue = string | number | boolean | null | Buffer | CellValue[];

const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\0': '\\0',
  "'": "\\'",
  '\b': '\\b',
  '\f': '\\f',
};

function escapeText(s: string): string {
  return s.replace(/[\\\t\n\r\0'\b\f]/g, (c) => ESCAPES[c]!);
}

export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  // String(n) is the shortest text that reads back as the same double.
  return String(n);
}

/** A value inside an array: strings are quoted there, unlike at top level. */
function formatNested(v: CellValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') return `'${escapeText(v)}'`;
  if (Buffer.isBuffer(v)) return `'${escapeBytes(v)}'`;
  if (Array.isArray(v)) return `[${v.map(formatNested).join(',')}]`;
  if (typeof v === 'boolean') return v ? '1' : '0';
  return formatNumber(v);
}

/** Bytes go into String columns; non-UTF-8 bytes are written as \xHH escapes, which ClickHouse reads back as raw bytes. */
function escapeBytes(b: Buffer): string {
  let out = '';
  for (const byte of b) {
    if (byte >= 0x20 && byte < 0x7f && byte !== 0x5c && byte !== 0x27) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export function formatCell(v: CellValue): string {
  if (v === null) return '\\N';
  if (typeof v === 'string') return escapeText(v);
  if (Buffer.isBuffer(v)) return escapeBytes(v);
  if (Array.isArray(v)) return `[${v.map(formatNested).join(',')}]`;
  if (typeof v === 'boolean') return v ? '1' : '0';
  return formatNumber(v);
}

export function formatRows(rows: ReadonlyArray<ReadonlyArray<CellValue>>): string {
  let out = '';
  for (const row of rows) out += `${row.map(formatCell).join('\t')}\n`;
  return out;
}
