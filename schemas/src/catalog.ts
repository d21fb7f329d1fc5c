// Loads the schema files: the current writer schema of every event, and the frozen history of
// every version ever released (for decoding old bytes and checking evolution).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCHEMAS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CURRENT_DIR = join(SCHEMAS_DIR, 'avro');
export const HISTORY_DIR = join(SCHEMAS_DIR, 'history');

/** Order fixes the EventMap order in generated types; every .avsc in avro/ must appear. */
export const EVENT_ORDER = [
  'RunStarted',
  'StepMetrics',
  'ProbeSummary',
  'Checkpointed',
  'RunFinished',
  'PhaseChanged',
  'StopRun',
  'DeadLetter',
  'SweepPoint',
  'DetectorProgress',
] as const;

export interface SchemaFile {
  name: string;
  file: string;
  schema: Record<string, unknown>;
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`cannot read schema ${file}: ${(err as Error).message}`);
  }
}

export function loadCurrentSchemas(dir = CURRENT_DIR): SchemaFile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.avsc'));
  const known = new Set<string>(EVENT_ORDER);
  for (const f of files) {
    const name = f.replace(/\.avsc$/, '');
    if (!known.has(name)) throw new Error(`schema ${f} is not listed in EVENT_ORDER (schemas/src/catalog.ts)`);
  }
  return EVENT_ORDER.map((name) => {
    const file = join(dir, `${name}.avsc`);
    if (!existsSync(file)) throw new Error(`missing schema file ${file}`);
    const schema = readJson(file);
    if (schema.name !== name) throw new Error(`${file}: record name ${String(schema.name)} should be ${name}`);
    return { name, file, schema };
  });
}

/** history/<Name>/<fingerprint hex>.avsc: every released writer schema, never edited. */
export function loadHistory(dir = HISTORY_DIR): SchemaFile[] {
  if (!existsSync(dir)) return [];
  const out: SchemaFile[] = [];
  for (const name of readdirSync(dir).sort()) {
    for (const f of readdirSync(join(dir, name)).sort()) {
      if (!f.endsWith('.avsc')) continue;
      const file = join(dir, name, f);
      out.push({ name, file, schema: readJson(file) });
    }
  }
  return out;
}
