// Generates TypeScript types from the .avsc files, so the schemas stay the one source of truth.
// Run `pnpm --filter @grokstream/schemas typegen`; a spec fails when the output is stale.

type Schema = string | Schema[] | { [key: string]: unknown };

const PRIMITIVE_TS: Record<string, string> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  string: 'string',
};

function shortName(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? name : name.slice(dot + 1);
}

/** Emits one declaration per named type, in order of first appearance. */
export function generateTypes(schemas: ReadonlyArray<{ file: string; schema: unknown }>): string {
  const declared = new Map<string, string>();
  const out: string[] = [];

  const typeOf = (s: Schema): string => {
    if (typeof s === 'string') return PRIMITIVE_TS[s] ?? shortName(s);
    if (Array.isArray(s)) return s.map(typeOf).join(' | ');
    const t = s.type as Schema;
    if (typeof t !== 'string') return typeOf(t);
    switch (t) {
      case 'array':
        return `Array<${typeOf(s.items as Schema)}>`;
      case 'map':
        return `Record<string, ${typeOf(s.values as Schema)}>`;
      case 'record':
      case 'enum':
      case 'fixed':
        return declare(s);
      default:
        return PRIMITIVE_TS[t] ?? shortName(t);
    }
  };

  const declare = (s: { [key: string]: unknown }): string => {
    const name = shortName(String(s.name));
    const doc = typeof s.doc === 'string' ? `/** ${s.doc} */\n` : '';
    let body: string;
    if (s.type === 'enum') {
      body = `${doc}export type ${name} = ${(s.symbols as string[]).map((x) => `'${x}'`).join(' | ')};`;
    } else if (s.type === 'fixed') {
      body = `${doc}export type ${name} = Buffer;`;
    } else {
      const fields = (s.fields as Array<{ name: string; type: Schema; doc?: string }>).map((f) => {
        const fdoc = f.doc ? `  /** ${f.doc} */\n` : '';
        return `${fdoc}  ${f.name}: ${typeOf(f.type)};`;
      });
      body = `${doc}export interface ${name} {\n${fields.join('\n')}\n}`;
    }
    const previous = declared.get(name);
    if (previous === undefined) {
      declared.set(name, body);
      out.push(body);
    } else if (previous !== body) {
      throw new Error(`typegen: two different definitions of ${name}; give them different names`);
    }
    return name;
  };

  const names: string[] = [];
  for (const { schema } of schemas) names.push(typeOf(schema as Schema));
  const header = '// Generated from schemas/avro/*.avsc by schemas/src/typegen.ts. Do not edit.\n';
  const map = `export interface EventMap {\n${names.map((n) => `  ${n}: ${n};`).join('\n')}\n}`;
  return `${header}\n${out.join('\n\n')}\n\n${map}\n\nexport type EventName = keyof EventMap;\n\nexport const EVENT_NAMES = [${names
    .map((n) => `'${n}'`)
    .join(', ')}] as const satisfies readonly EventName[];\n`;
}
