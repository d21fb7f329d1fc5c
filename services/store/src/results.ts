// Decodes ClickHouse's JSON output format ({meta, data}) into JS values using the column types:
// 64-bit integers arrive quoted, and with output_format_json_quote_denormals=1 so do nan/inf.
export type Row = Record<string, unknown>;

interface JsonResult {
  meta: Array<{ name: string; type: string }>;
  data: Row[];
}

const NON_FINITE: Record<string, number> = { nan: NaN, '-nan': NaN, inf: Infinity, '+inf': Infinity, '-inf': -Infinity };

function innerType(type: string): string {
  let t = type;
  for (;;) {
    const m = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(t);
    if (!m) return t;
    t = m[1]!;
  }
}

function converter(type: string): ((v: unknown) => unknown) | undefined {
  const t = innerType(type);
  const arr = /^Array\((.*)\)$/.exec(t);
  if (arr) {
    const inner = converter(arr[1]!);
    return inner ? (v) => (Array.isArray(v) ? v.map(inner) : v) : undefined;
  }
  if (/^Float(32|64)$/.test(t)) {
    return (v) => (typeof v === 'string' ? (NON_FINITE[v.toLowerCase()] ?? Number(v)) : v);
  }
  if (/^U?Int(64|128|256)$/.test(t)) {
    return (v) => {
      if (typeof v !== 'string') return v;
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : BigInt(v);
    };
  }
  return undefined;
}

export function decodeJsonResult(text: string): Row[] {
  if (text.trim() === '') return [];
  const parsed = JSON.parse(text) as JsonResult;
  const converters = parsed.meta
    .map((m) => ({ name: m.name, convert: converter(m.type) }))
    .filter((c): c is { name: string; convert: (v: unknown) => unknown } => c.convert !== undefined);
  if (converters.length === 0) return parsed.data;
  for (const row of parsed.data) {
    for (const { name, convert } of converters) row[name] = convert(row[name]);
  }
  return parsed.data;
}
