// avsc decodes invalid UTF-8 to U+FFFD without complaint (codec.ts then re-checks the bytes).
// Finding a U+FFFD in a decoded value is on every message's path, so instead of walking every
// field of every value, each schema gets a check compiled once that visits only where strings
// can be: a StepMetrics has one string (run_id) among dozens of numbers.
import type { Type } from 'avsc';

/** True when the value holds U+FFFD in some string (or map key) the type allows there. */
export type ReplacementCheck = (value: unknown) => boolean;

/** The walk that knows no schema: every string and object key in the value. */
export function anyReplacementChar(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('\uFFFD');
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return false;
  if (Array.isArray(v)) return v.some(anyReplacementChar);
  for (const k in v) if (k.includes('\uFFFD') || anyReplacementChar((v as Record<string, unknown>)[k])) return true;
  return false;
}

interface AvscType {
  typeName: string;
  fields?: Array<{ name: string; type: AvscType }>;
  itemsType?: AvscType;
  valuesType?: AvscType;
  types?: AvscType[];
}

const holdsFffd = (s: string) => s.includes('\uFFFD');

/**
 * The check for values of `type`, or undefined when the type holds no string at all (numbers,
 * booleans, bytes, fixed and enums: an enum decodes to one of its schema's symbols).
 */
export function replacementCheck(type: Type): ReplacementCheck | undefined {
  return compile(type as unknown as AvscType, new Set());
}

function compile(t: AvscType, building: Set<AvscType>): ReplacementCheck | undefined {
  // A named type that refers to itself: the schema-less walk for the inner occurrences.
  if (building.has(t)) return anyReplacementChar;
  building.add(t);
  try {
    switch (t.typeName) {
      case 'string':
        return (v) => holdsFffd(v as string);
      case 'record':
      case 'error': {
        const fields = t.fields!.flatMap((f) => {
          const check = compile(f.type, building);
          return check ? [{ name: f.name, check }] : [];
        });
        if (fields.length === 0) return undefined;
        if (fields.length === 1) {
          const [{ name, check }] = fields as [{ name: string; check: ReplacementCheck }];
          return (v) => check((v as Record<string, unknown>)[name]);
        }
        return (v) => {
          const r = v as Record<string, unknown>;
          for (const f of fields) if (f.check(r[f.name])) return true;
          return false;
        };
      }
      case 'array': {
        const item = compile(t.itemsType!, building);
        return item && ((v) => (v as unknown[]).some(item));
      }
      case 'map': {
        const value = compile(t.valuesType!, building);
        return (v) => {
          const m = v as Record<string, unknown>;
          for (const k in m) if (holdsFffd(k) || (value && value(m[k]))) return true;
          return false;
        };
      }
      case 'union:unwrapped':
      case 'union:wrapped': {
        const branches = t.types!.map((b) => compile(b, building));
        if (branches.every((b) => b === undefined)) return undefined;
        // The common shape, ["null", "string"]: no need to find the branch.
        const stringOrNull = t.typeName === 'union:unwrapped' && t.types!.every((b) => b.typeName === 'null' || b.typeName === 'string');
        if (stringOrNull) return (v) => typeof v === 'string' && holdsFffd(v);
        return anyReplacementChar;
      }
      default:
        return undefined;
    }
  } finally {
    building.delete(t);
  }
}
