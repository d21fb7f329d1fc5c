// Turns zod issues into ConfigProblems that say what is allowed and what was found. zod's own
// wording ("Invalid input: expected number, received string") names neither the value nor,
// for unknown keys, the keys that would have been accepted.
import type * as z from 'zod';
import type { ConfigProblem } from './errors.ts';
import { allowedKeys, isRecord, schemaAt } from './introspect.ts';

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

const TYPE_WORDS: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  record: 'a mapping',
};

/** Per-parse error map: messages for zod's built-in checks (schema-level messages win). */
export function messageFor(iss: RawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type': {
      const want = TYPE_WORDS[iss.expected] ?? iss.expected;
      return iss.input === undefined ? `required (${want})` : `expected ${want}`;
    }
    case 'too_small':
    case 'too_big': {
      const small = iss.code === 'too_small';
      const bound = Number(small ? iss.minimum : iss.maximum);
      if (iss.origin === 'array') return `must have ${small ? 'at least' : 'at most'} ${bound} item${bound === 1 ? '' : 's'}`;
      if (iss.origin === 'string') return small ? `must have at least ${bound} character(s)` : `must be at most ${bound} characters`;
      const op = small ? (iss.inclusive ? '>=' : '>') : iss.inclusive ? '<=' : '<';
      return `must be ${op} ${bound}`;
    }
    case 'invalid_value':
      return `must be ${iss.values.length === 1 ? '' : 'one of '}${iss.values.map((v) => JSON.stringify(v)).join(' | ')}`;
    default:
      return undefined;
  }
}

export function pathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');
}

/** JSON of a value, cut short so a long list doesn't flood the terminal. */
export function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * One ConfigProblem per issue (per key for unknown keys). `data` is the raw config that was
 * validated; `overrides` maps a dotted key path to the override that set it.
 */
export function toProblems(schema: z.ZodType, issues: readonly Issue[], data: unknown, overrides: ReadonlyMap<string, string>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (path: readonly PropertyKey[], message: string) => {
    const text = pathText(path);
    problems.push({ path: text, message, ...originOf(text, overrides) });
  };
  for (const iss of issues) {
    if (iss.code === 'unrecognized_keys') {
      const allowed = allowedKeys(schema, iss.path, data);
      for (const key of iss.keys) {
        const near = closest(key, allowed);
        add([...iss.path, key], `unknown key${near ? ` (did you mean "${near}"?)` : ''}; allowed here: ${allowed.join(', ')}`);
      }
    } else if (iss.code === 'invalid_union' && 'discriminator' in iss && typeof iss.discriminator === 'string') {
      // The issue sits on the discriminator key but carries the whole object as input.
      const tag = isRecord(iss.input) ? iss.input[iss.discriminator] : undefined;
      const options = (iss as { options?: unknown[] }).options ?? [];
      const allowed = options.map((o) => JSON.stringify(o)).join(' | ');
      add(iss.path, tag === undefined ? `required: one of ${allowed}` : `must be one of ${allowed} (got ${show(tag)})`);
    } else if (iss.code === 'invalid_type' && iss.input === undefined) {
      add(iss.path, `${iss.message}${unionHint(schema, iss.path, data)}`);
    } else {
      add(iss.path, iss.input === undefined ? iss.message : `${iss.message} (got ${show(iss.input)})`);
    }
  }
  return problems;
}

/** For a missing union (e.g. no `task:`), say which kinds exist. */
function unionHint(schema: z.ZodType, path: readonly PropertyKey[], data: unknown): string {
  const node = schemaAt(schema, path, data) as unknown as { _zod: { def: { discriminator?: string; options?: z.ZodType[] } } } | undefined;
  const def = node?._zod.def;
  if (!def?.discriminator || !def.options) return '';
  const kinds = def.options.flatMap((o) => allowedValues(o, def.discriminator!));
  return `; set ${def.discriminator}: one of ${kinds.map((k) => JSON.stringify(k)).join(' | ')}`;
}

function allowedValues(option: z.ZodType, key: string): unknown[] {
  const node = schemaAt(option, [key], {}) as unknown as { _zod: { def: { values?: unknown[] } } } | undefined;
  return node?._zod.def.values ?? [];
}

function originOf(path: string, overrides: ReadonlyMap<string, string>): { override?: string } {
  for (const [key, text] of overrides) {
    if (path === key || path.startsWith(`${key}.`) || path.startsWith(`${key}[`)) return { override: text };
  }
  return {};
}

/** The allowed key nearest to a misspelt one (edit distance <= 2), for "did you mean". */
function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const a of allowed) {
    const d = editDistance(key.toLowerCase(), a.toLowerCase());
    if (d < bestD) [best, bestD] = [a, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
