// Command-line overrides `a.b.c=value`, applied to the raw (parsed YAML) object before
// validation, so an override is checked exactly like the same value written in the file.
import YAML from 'yaml';
import { ConfigError, type ConfigProblem } from './errors.ts';
import { allowedKeys, discriminatorAt, isRecord } from './introspect.ts';
import { RunConfigSchema } from './schema.ts';

export interface Override {
  /** The text as given, for error messages. */
  text: string;
  path: string[];
  /** The value parsed as YAML; null means "remove the key" (its default applies). */
  value: unknown;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * Parses `key.path=value`. The value is read as a YAML scalar or flow collection, the same way
 * it would be read in the file: `1e-3` is a number, `true` a boolean, `[1,2]` a list, `"7"` or
 * `'7'` a string, `full` a string; an empty value or `null` removes the key.
 */
export function parseOverride(text: string): Override | ConfigProblem {
  const eq = text.indexOf('=');
  const bad = (path: string, message: string): ConfigProblem => ({ path, message, override: text });
  if (eq < 0) return bad('', 'malformed override: expected key.path=value (no "=")');
  const key = text.slice(0, eq).trim();
  if (key === '') return bad('', 'malformed override: expected key.path=value (empty key)');
  const path = key.split('.');
  const badSeg = path.find((s) => !SEGMENT.test(s) || /^\d+$/.test(s));
  if (badSeg !== undefined) {
    const why =
      badSeg === ''
        ? 'malformed override: empty segment in key path; expected key.path=value'
        : /^\d+$/.test(badSeg)
          ? `list indices ("${badSeg}") are not supported; set the whole list, e.g. model.hidden=[256,256]`
          : `malformed override: bad key segment "${badSeg}" (letters, digits, _ and - only)`;
    return bad(key, why);
  }
  const raw = text.slice(eq + 1);
  const doc = YAML.parseDocument(raw);
  if (doc.errors.length > 0) return bad(key, `value is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  return { text, path, value: doc.toJS() };
}

/**
 * Applies overrides to a copy of `raw` (which must be a mapping) and returns it; problems are
 * collected and thrown together as one ConfigError. Setting a union's discriminator
 * (`task.kind=sparse_parity`) drops the keys the new variant does not have, so its defaults
 * apply, and keeps shared ones (optimizer.kind=sgd keeps lr and batch_size). Such switches are
 * applied first, so `task.kind=X task.k=3` works in either order.
 */
export function applyOverrides(
  raw: Record<string, unknown>,
  overrides: readonly string[],
  source: string,
): Record<string, unknown> {
  const out = structuredClone(raw);
  const problems: ConfigProblem[] = [];
  const parsed: Override[] = [];
  for (const text of overrides) {
    const o = parseOverride(text);
    if ('text' in o) parsed.push(o);
    else problems.push(o);
  }
  const switches = new Set(parsed.filter((o) => discriminatorAt(RunConfigSchema, o.path.slice(0, -1), out) === o.path.at(-1)));
  for (const o of [...switches, ...parsed.filter((o) => !switches.has(o))]) {
    const problem = setPath(out, o);
    if (problem) problems.push(problem);
    else if (switches.has(o)) dropForeignKeys(out, o.path.slice(0, -1));
  }
  if (problems.length > 0) throw new ConfigError(source, problems);
  return out;
}

function setPath(root: Record<string, unknown>, o: Override): ConfigProblem | undefined {
  let node = root;
  for (let i = 0; i < o.path.length - 1; i++) {
    const key = o.path[i]!;
    const next = node[key];
    if (next === undefined || next === null) node[key] = {};
    else if (!isRecord(next)) {
      const where = o.path.slice(0, i + 1).join('.');
      const what = Array.isArray(next) ? 'a list (set the whole list, e.g. key=[1,2])' : `${JSON.stringify(next)}, not a mapping`;
      return { path: o.path.join('.'), message: `cannot set: ${where} is ${what}`, override: o.text };
    }
    node = node[key] as Record<string, unknown>;
  }
  const last = o.path.at(-1)!;
  if (o.value === null) delete node[last];
  else node[last] = o.value;
  return undefined;
}

/**
 * After a variant switch, removes the keys the new variant does not have (the old variant's
 * settings), keeping shared ones such as optimizer.lr. An unknown kind keeps everything, so
 * validation reports the kind rather than a pile of missing keys.
 */
function dropForeignKeys(root: Record<string, unknown>, path: string[]): void {
  const node = path.reduce<unknown>((v, k) => (isRecord(v) ? v[k] : undefined), root);
  const keep = allowedKeys(RunConfigSchema, path, root);
  if (!isRecord(node) || keep.length === 0) return;
  for (const k of Object.keys(node)) if (!keep.includes(k)) delete node[k];
}
