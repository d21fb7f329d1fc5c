// Literals for SQL text. ClickHouse 18.16 has no query parameters, so values are escaped here,
// in one place, and tested.

export function sqlString(s: string): string {
  return `'${s.replace(/[\\']/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t').replace(/\0/g, '\\0')}'`;
}

/** Smallest positive normal double; below it (and above 0) lie the subnormals. */
const MIN_NORMAL = 2.2250738585072014e-308;

/**
 * A number as SQL. String(n) is the shortest text that reads back as the same double, and both
 * 18.16's and 26.x's SQL parsers read it exactly (unlike 18.16's text input formats). Non-finite
 * values become nan/inf; -0 needs a float literal to keep its sign; 18.16 rejects subnormal
 * literals (`1e-310` is a syntax error there), so those are spelled as their bytes.
 */
export function sqlNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (Object.is(n, -0)) return '-0.';
  if (n !== 0 && Math.abs(n) < MIN_NORMAL) {
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleLE(n);
    return `reinterpretAsFloat64(unhex('${bytes.toString('hex')}'))`;
  }
  return String(n);
}

/** Identifiers we generate are plain; anything else is refused rather than quoted. */
export function sqlIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a plain identifier: ${JSON.stringify(name)}`);
  return name;
}
