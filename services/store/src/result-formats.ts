// Query results as people and programs read them: an aligned table, CSV (RFC 4180), a JSON array
// or JSON Lines. Non-finite numbers, which JSON cannot hold, are written as ClickHouse writes them
// with quoted denormals: "nan", "inf", "-inf".
import type { Row } from './results.ts';

export const RESULT_FORMATS = ['table', 'csv', 'json', 'jsonl'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

function plain(v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

function text(v: unknown): string {
  const p = plain(v);
  if (p === null || p === undefined) return '';
  if (typeof p === 'string') return p;
  return typeof p === 'object' ? JSON.stringify(p) : String(p);
}

function csvCell(v: unknown): string {
  const t = v === null || v === undefined ? '' : text(v);
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

export function formatRows(rows: Row[], format: ResultFormat): string {
  const columns = rows.length > 0 ? Object.keys(rows[0]!) : [];
  switch (format) {
    case 'json':
      return `${JSON.stringify(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plain(v)]))), null, 2)}\n`;
    case 'jsonl':
      return rows.map((r) => `${JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plain(v)])))}\n`).join('');
    case 'csv':
      return [columns.map(csvCell).join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))].map((l) => `${l}\r\n`).join('');
    case 'table': {
      if (rows.length === 0) return '(no rows)\n';
      const cells = rows.map((r) => columns.map((c) => (r[c] === null ? 'NULL' : text(r[c]))));
      const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
      const numeric = columns.map((c) => rows.every((r) => r[c] === null || typeof r[c] === 'number'));
      const line = (vals: string[]) => vals.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
      const out = [line(columns), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(line)];
      out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
      return `${out.join('\n')}\n`;
    }
  }
}
