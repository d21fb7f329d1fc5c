// Literals for SQL text. ClickHouse 18.16 has no query parameters, so values are escaped here,
// in one place, and tested.
import { formatNumber } from './tsv.ts';

export function sqlString(s: string): string {
  return `'${s.replace(/[\\']/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t').replace(/\0/g, '\\0')}'`;
}

/** A number literal; non-finite values become nan/inf, which ClickHouse parses. */
export function sqlNumber(n: number): string {
  return formatNumber(n);
}

/** Identifiers we generate are plain; anything else is refused rather than quoted. */
export function sqlIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a plain identifier: ${JSON.stringify(name)}`);
  return name;
}
