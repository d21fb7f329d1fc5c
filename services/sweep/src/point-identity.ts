// What makes two sweep points the same run: the resolved trainer config minus what does not change
// the training (names, tags, where checkpoints go, logging, the backend, the bus settings). Its
// hash is the point's identity in the store (the run tag `config_hash`): a point whose hash has a
// finished run is skipped when the sweep runs again.
import { createHash } from 'node:crypto';

/** Settings that do not change what is trained: left out of the identity. */
export const NOT_TRAINING: ReadonlyArray<readonly string[]> = [
  ['run', 'name'],
  ['run', 'tags'],
  ['run', 'checkpoint'],
  ['run', 'log_every'],
  ['run', 'backend'],
  ['emit'],
];

/** JSON with object keys sorted at every depth: equal configs give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function without(value: unknown, path: readonly string[]): unknown {
  if (path.length === 0 || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const [head, ...rest] = path as [string, ...string[]];
  const o = value as Record<string, unknown>;
  if (!(head in o)) return value;
  const copy = { ...o };
  if (rest.length === 0) delete copy[head];
  else copy[head] = without(o[head], rest);
  return copy;
}

/** The identity of a resolved config: 16 hex digits of SHA-256 over its training-relevant part. */
export function configHash(resolved: unknown): string {
  let v = resolved;
  for (const p of NOT_TRAINING) v = without(v, p);
  return createHash('sha256').update(canonicalJson(v)).digest('hex').slice(0, 16);
}

/**
 * A sweep's id: the config's name and 8 hex digits over the base config's identity and the grid,
 * so the same sweep command gives the same id (and its finished points are found again), and
 * `--sweep NAME` can name it instead.
 */
export function sweepId(configName: string, baseHash: string, grid: unknown): string {
  const h = createHash('sha256').update(`${baseHash}\n${canonicalJson(grid)}`).digest('hex').slice(0, 8);
  return `${configName.replace(/[^A-Za-z0-9_.-]/g, '-')}-${h}`;
}
