// Walking the zod schema along a key path, to answer the two questions the error messages and
// the overrides need: which keys are allowed here, and is this key a union's discriminator.
// zod 4 keeps every node's definition in `_zod.def`; only the few node types used in schema.ts
// are handled.
import type * as z from 'zod';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Strips defaults, optionals and transforms down to the object/union/leaf underneath. */
function unwrap(s: z.ZodType): z.ZodType {
  for (;;) {
    const d = defOf(s);
    if (d.innerType && ['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch'].includes(d.type)) s = d.innerType;
    // A pipe is either object -> transform (look at the object) or preprocess -> schema.
    else if (d.type === 'pipe' && d.in) s = defOf(d.in).type === 'transform' && d.out ? d.out : d.in;
    else return s;
  }
}

/** For a discriminated union, the option matching `value[discriminator]`, if any. */
function pickOption(s: z.ZodType, value: unknown): z.ZodType | undefined {
  const d = defOf(s);
  if (d.type !== 'union' || !d.discriminator || !d.options) return s;
  const tag = isRecord(value) ? value[d.discriminator] : undefined;
  return d.options.find((o) => defOf(unwrap(o)).shape?.[d.discriminator!] && literalValues(unwrap(o), d.discriminator!).includes(tag));
}

function literalValues(obj: z.ZodType, key: string): unknown[] {
  const field = defOf(obj).shape?.[key];
  return field ? ((defOf(unwrap(field)) as Def & { values?: unknown[] }).values ?? []) : [];
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The schema node at `path` (unwrapped; unions resolved by the discriminator found in `data`
 * along the way), or undefined when the path leaves the schema.
 */
export function schemaAt(root: z.ZodType, path: readonly PropertyKey[], data: unknown): z.ZodType | undefined {
  let s: z.ZodType | undefined = unwrap(root);
  let v = data;
  for (const key of path) {
    s = pickOption(s, v);
    const shape = s && defOf(s).shape;
    if (!shape || typeof key !== 'string' || !(key in shape)) return undefined;
    s = unwrap(shape[key]!);
    v = isRecord(v) ? v[key] : undefined;
  }
  return s;
}

/** Keys an object at `path` may have (for "unknown key" messages), or [] if not an object. */
export function allowedKeys(root: z.ZodType, path: readonly PropertyKey[], data: unknown): string[] {
  const s = schemaAt(root, path, data);
  const value = path.reduce<unknown>((v, k) => (isRecord(v) ? v[k as string] : undefined), data);
  const obj = s && pickOption(s, value);
  return obj ? Object.keys(defOf(obj).shape ?? {}) : [];
}

/** The discriminator key of the union at `path` (e.g. 'kind' for task), if it is one. */
export function discriminatorAt(root: z.ZodType, path: readonly string[], data: unknown): string | undefined {
  const s = schemaAt(root, path, data);
  const d = s && defOf(s);
  return d?.type === 'union' ? d.discriminator : undefined;
}
