// Parsing Canonical Form of an Avro schema (Avro specification, "Parsing Canonical Form for
// Schemas"): the text whose fingerprint identifies a writer schema in single-object encoding.
// Two schemas that read and write the same bytes must give the same text, byte for byte, or
// their fingerprints (and so every reader's schema lookup) disagree.
// Rules: PRIMITIVES, FULLNAMES, STRIP, ORDER, STRINGS, INTEGERS, WHITESPACE. The output is
// built by hand rather than with JSON.stringify(object) because ORDER and STRIP fix the keys.

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const NAMED = new Set(['record', 'error', 'enum', 'fixed']);

/** A dotted name is already full; otherwise the namespace, if any, qualifies it. */
function fullName(name: string, namespace: string | undefined): string {
  if (name.includes('.') || !namespace) return name;
  return `${namespace}.${name}`;
}

function namespaceOf(full: string): string | undefined {
  const dot = full.lastIndexOf('.');
  return dot < 0 ? undefined : full.slice(0, dot);
}

// STRINGS: JSON.stringify writes non-ASCII characters as themselves (UTF-8 once encoded) and
// escapes only what JSON requires, which is the spec's rule. Valid Avro names never need it.
const str = (s: string): string => JSON.stringify(s);

export function parsingCanonicalForm(schema: unknown): string {
  // Full names defined so far. A named type is written out in full at its first (defining)
  // occurrence only; every later use is the quoted full name, as in the spec's examples.
  const defined = new Set<string>();

  // A reference resolves against the enclosing namespace first, then the null namespace
  // (what Apache Avro Java does); a name never defined before its use is malformed.
  const reference = (name: string, namespace: string | undefined): string => {
    const full = fullName(name, namespace);
    if (defined.has(full)) return str(full);
    if (defined.has(name)) return str(name);
    throw new Error(`Avro schema refers to "${full}", which is not a primitive type nor a named type defined before it`);
  };

  const walk = (s: unknown, namespace: string | undefined): string => {
    if (typeof s === 'string') return PRIMITIVES.has(s) ? str(s) : reference(s, namespace);
    if (Array.isArray(s)) return `[${s.map((branch) => walk(branch, namespace)).join(',')}]`;
    if (s === null || typeof s !== 'object') {
      throw new Error(`not an Avro schema: ${JSON.stringify(s)} (expected a type name, an object or a union array)`);
    }
    const o = s as Record<string, unknown>;
    const type = o.type;
    if (typeof type !== 'string') {
      // {"type": {...}} or {"type": [...]} wraps another schema.
      if (type !== undefined && type !== null) return walk(type, namespace);
      throw new Error(`Avro schema object without "type": ${JSON.stringify(o)}`);
    }
    // PRIMITIVES (and STRIP: logicalType and any other attribute of a primitive goes).
    if (PRIMITIVES.has(type)) return str(type);
    if (type === 'array') {
      if (o.items === undefined) throw new Error(`Avro array schema needs "items": ${JSON.stringify(o)}`);
      return `{"type":"array","items":${walk(o.items, namespace)}}`;
    }
    if (type === 'map') {
      if (o.values === undefined) throw new Error(`Avro map schema needs "values": ${JSON.stringify(o)}`);
      return `{"type":"map","values":${walk(o.values, namespace)}}`;
    }
    if (NAMED.has(type)) return named(o, type, namespace);
    // {"type": "SomeNamedType"} is a reference too.
    return reference(type, namespace);
  };

  const named = (o: Record<string, unknown>, type: string, enclosing: string | undefined): string => {
    if (typeof o.name !== 'string' || o.name === '') {
      throw new Error(`Avro ${type} schema needs a "name": ${JSON.stringify(o)}`);
    }
    // An explicit "namespace": "" selects the null namespace; only an absent one inherits.
    const ns = typeof o.namespace === 'string' ? o.namespace : enclosing;
    const name = fullName(o.name, ns);
    if (defined.has(name)) throw new Error(`Avro type ${name} is defined twice`);
    defined.add(name);
    // Apache Avro Java, whose fingerprints the vector file is checked against, parses an
    // "error" as a record and writes it as one; doing the same keeps fingerprints equal.
    const head = `{"name":${str(name)},"type":${str(type === 'error' ? 'record' : type)}`;

    if (type === 'enum') {
      const symbols = o.symbols;
      if (!Array.isArray(symbols) || !symbols.every((x): x is string => typeof x === 'string')) {
        throw new Error(`Avro enum ${name} needs "symbols", an array of strings`);
      }
      return `${head},"symbols":[${symbols.map(str).join(',')}]}`;
    }
    if (type === 'fixed') {
      // INTEGERS: a quoted or zero-padded size ("016") is written as a bare 16.
      const size = typeof o.size === 'string' && /^\d+$/.test(o.size) ? Number(o.size) : o.size;
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
        throw new Error(`Avro fixed ${name} needs a non-negative integer "size", not ${JSON.stringify(o.size)}`);
      }
      return `${head},"size":${size}}`;
    }

    if (!Array.isArray(o.fields)) throw new Error(`Avro record ${name} needs "fields", an array`);
    // Types defined inside a record inherit the namespace of the record's full name, which
    // differs from its "namespace" attribute when the name itself is dotted.
    const inner = namespaceOf(name);
    const fields = o.fields.map((f: unknown, i: number) => {
      if (f === null || typeof f !== 'object' || Array.isArray(f)) {
        throw new Error(`field ${i} of Avro record ${name} is not an object`);
      }
      const field = f as Record<string, unknown>;
      if (typeof field.name !== 'string') throw new Error(`field ${i} of Avro record ${name} has no "name"`);
      if (field.type === undefined) throw new Error(`field ${field.name} of Avro record ${name} has no "type"`);
      return `{"name":${str(field.name)},"type":${walk(field.type, inner)}}`;
    });
    return `${head},"fields":[${fields.join(',')}]}`;
  };

  return walk(schema, undefined);
}
