// Parsing Canonical Form of an Avro schema (Avro specification, "Parsing Canonical Form for
// Schemas"): the text whose fingerprint identifies a writer schema in single-object encoding.
// Rules: PRIMITIVES, FULLNAMES, STRIP, ORDER, STRINGS, INTEGERS, WHITESPACE.

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const NAMED = new Set(['record', 'error', 'enum', 'fixed']);

function fullName(name: string, namespace: string | undefined): string {
  if (name.includes('.') || !namespace) return name;
  return `${namespace}.${name}`;
}

function namespaceOf(full: string): string | undefined {
  const dot = full.lastIndexOf('.');
  return dot < 0 ? undefined : full.slice(0, dot);
}

export function parsingCanonicalForm(schema: unknown): string {
  const defined = new Set<string>();

  const walk = (s: unknown, namespace: string | undefined): string => {
    if (typeof s === 'string') {
      if (PRIMITIVES.has(s)) return JSON.stringify(s);
      return JSON.stringify(fullName(s, namespace)); // a reference to a named type
    }
    if (Array.isArray(s)) return `[${s.map((b) => walk(b, namespace)).join(',')}]`;
    if (s === null || typeof s !== 'object') {
      throw new Error(`not an Avro schema: ${JSON.stringify(s)} (expected a type name, an object or a union array)`);
    }
    const o = s as Record<string, unknown>;
    const type = o.type;
    if (typeof type !== 'string') {
      // {"type": {...}} or {"type": [...]} wraps another schema.
      if (type !== undefined) return walk(type, namespace);
      throw new Error(`Avro schema object without "type": ${JSON.stringify(o)}`);
    }
    if (PRIMITIVES.has(type)) return JSON.stringify(type);
    if (NAMED.has(type)) {
      if (typeof o.name !== 'string' || o.name === '') {
        throw new Error(`Avro ${type} schema needs a "name": ${JSON.stringify(o)}`);
      }
      const ns = typeof o.namespace === 'string' && o.namespace !== '' ? o.namespace : namespace;
      const name = fullName(o.name, ns);
      if (defined.has(name)) throw new Error(`Avro type ${name} is defined twice`);
      defined.add(name);
      const inner = namespaceOf(name);
      const head = `{"name":${JSON.stringify(name)},"type":${JSON.stringify(type)}`;
      if (type === 'enum') {
        if (!Array.isArray(o.symbols)) throw new Error(`Avro enum ${name} needs "symbols"`);
        return `${head},"symbols":[${o.symbols.map((x) => JSON.stringify(String(x))).join(',')}]}`;
      }
      if (type === 'fixed') {
        const size = Number(o.size);
        if (!Number.isInteger(size) || size < 0) throw new Error(`Avro fixed ${name} needs an integer "size"`);
        return `${head},"size":${size}}`;
      }
      if (!Array.isArray(o.fields)) throw new Error(`Avro record ${name} needs "fields"`);
      const fields = (o.fields as Array<Record<string, unknown>>).map((f) => {
        if (typeof f.name !== 'string') throw new Error(`a field of record ${name} has no "name"`);
        return `{"name":${JSON.stringify(f.name)},"type":${walk(f.type, inner)}}`;
      });
      return `${head},"fields":[${fields.join(',')}]}`;
    }
    if (type === 'array') return `{"type":"array","items":${walk(o.items, namespace)}}`;
    if (type === 'map') return `{"type":"map","values":${walk(o.values, namespace)}}`;
    // {"type": "SomeNamedType"} is a reference too.
    return JSON.stringify(fullName(type, namespace));
  };

  return walk(schema, undefined);
}
