// Deterministic example values for any Avro schema: fixtures for evolution tests and benchmarks.
// Every field gets a value that depends on its name, so a swapped field shows up in a diff.
type Schema = string | Schema[] | { [key: string]: unknown };

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

export function sampleValue(schema: unknown, hint = 'v', named = new Map<string, Schema>()): unknown {
  const s = schema as Schema;
  const h = hash(hint);
  if (Array.isArray(s)) {
    // Prefer the first non-null branch so optional fields are exercised.
    const branch = s.find((b) => b !== 'null') ?? 'null';
    return sampleValue(branch, hint, named);
  }
  if (typeof s === 'string') {
    switch (s) {
      case 'null':
        return null;
      case 'boolean':
        return h % 2 === 0;
      case 'int':
        return h % 1000;
      case 'long':
        return h % 1_000_000;
      case 'float':
      case 'double':
        return (h % 10_000) / 128; // exactly representable, so float round trips are exact
      case 'bytes':
        return Buffer.from(hint, 'utf8');
      case 'string':
        return `${hint}-${h % 97}`;
      default: {
        const ref = named.get(s) ?? named.get(s.slice(s.lastIndexOf('.') + 1));
        if (!ref) throw new Error(`sampleValue: unknown type ${s}`);
        return sampleValue(ref, hint, named);
      }
    }
  }
  const type = s.type as Schema;
  if (typeof type !== 'string') return sampleValue(type, hint, named);
  if (type === 'record' || type === 'enum' || type === 'fixed') {
    const name = String(s.name);
    named.set(name, s);
    named.set(name.slice(name.lastIndexOf('.') + 1), s);
  }
  switch (type) {
    case 'record': {
      const out: Record<string, unknown> = {};
      for (const f of s.fields as Array<{ name: string; type: Schema }>) {
        out[f.name] = sampleValue(f.type, `${hint}.${f.name}`, named);
      }
      return out;
    }
    case 'enum': {
      const symbols = s.symbols as string[];
      return symbols[h % symbols.length];
    }
    case 'fixed':
      return Buffer.alloc(Number(s.size), h % 256);
    case 'array':
      return [0, 1].map((i) => sampleValue(s.items as Schema, `${hint}[${i}]`, named));
    case 'map':
      return { a: sampleValue(s.values as Schema, `${hint}.a`, named), b: sampleValue(s.values as Schema, `${hint}.b`, named) };
    default:
      return sampleValue(type, hint, named);
  }
}
