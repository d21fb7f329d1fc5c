// The event log file: every event of a run appended to an Avro object container file whose
// schema is the union of the event records, so any Avro implementation can read it (the
// embedded mode's durable record, and a source for `grokstream replay`).
import { createReadStream, createWriteStream } from 'node:fs';
import avro from 'avsc';
import type { Type } from 'avsc';
import { loadCurrentSchemas } from './catalog.ts';
import type { AnyEvent } from './codec.ts';
import type { EventName } from './events.generated.ts';

const NAMESPACE = 'dev.grokstream.events.';

let unionType: Type | undefined;

/**
 * Each .avsc is self-contained, so a shared type (Evidence) is defined in two files; inside one
 * union schema the second definition must become a reference by name.
 */
function dedupeNamedTypes(schema: unknown, seen: Set<string>, namespace = ''): unknown {
  if (Array.isArray(schema)) return schema.map((s) => dedupeNamedTypes(s, seen, namespace));
  if (schema === null || typeof schema !== 'object') return schema;
  const o = schema as Record<string, unknown>;
  if ((o.type === 'record' || o.type === 'enum' || o.type === 'fixed') && typeof o.name === 'string') {
    const ns = typeof o.namespace === 'string' ? o.namespace : namespace;
    const full = o.name.includes('.') || !ns ? o.name : `${ns}.${o.name}`;
    if (seen.has(full)) return full;
    seen.add(full);
    if (o.type !== 'record') return o;
    const inner = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : '';
    return { ...o, fields: (o.fields as Array<Record<string, unknown>>).map((f) => ({ ...f, type: dedupeNamedTypes(f.type, seen, inner) })) };
  }
  const out: Record<string, unknown> = { ...o };
  for (const k of ['type', 'items', 'values']) if (k in o) out[k] = dedupeNamedTypes(o[k], seen, namespace);
  return out;
}

/** The union of every current event record. avsc wraps the record union ({"full.Name": record}) and leaves nullable fields plain. */
export function eventLogType(): Type {
  const seen = new Set<string>();
  unionType ??= avro.Type.forSchema(loadCurrentSchemas().map((s) => dedupeNamedTypes(s.schema, seen)) as avro.Schema, { wrapUnions: 'auto' });
  return unionType;
}

export class EventLogWriter {
  private readonly encoder: InstanceType<typeof avro.streams.BlockEncoder>;
  private readonly done: Promise<void>;

  constructor(readonly path: string) {
    this.encoder = new avro.streams.BlockEncoder(eventLogType(), { codec: 'null' });
    const file = createWriteStream(path);
    this.encoder.pipe(file);
    // close() resolves when the file stream has closed, i.e. every block is on disk (the
    // encoder's own 'finish' comes before its last block reaches the file).
    this.done = new Promise((resolve, reject) => {
      file.on('close', () => resolve());
      file.on('error', reject);
      this.encoder.on('error', reject);
    });
  }

  append(events: AnyEvent[]): void {
    for (const e of events) this.encoder.write({ [NAMESPACE + e.name]: e.value });
  }

  async close(): Promise<void> {
    this.encoder.end();
    await this.done;
  }
}

/** Reads an event log file back; rejects with the file named when it is not one. */
export async function readEventLog(path: string): Promise<AnyEvent[]> {
  const head = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    createReadStream(path, { start: 0, end: 3 })
      .on('data', (c) => chunks.push(c as Buffer))
      .on('end', () => resolve(Buffer.concat(chunks)))
      .on('error', reject);
  });
  if (!head.equals(Buffer.from('Obj\x01', 'latin1'))) throw new Error(`${path} is not an Avro object container file (no 'Obj' magic)`);
  return new Promise((resolve, reject) => {
    const out: AnyEvent[] = [];
    avro
      .createFileDecoder(path, { readerSchema: eventLogType().schema() as avro.Schema })
      .on('data', (wrapped: Record<string, unknown>) => {
        const [full, value] = Object.entries(wrapped)[0]!;
        out.push({ name: full.slice(NAMESPACE.length) as EventName, value } as AnyEvent);
      })
      .on('end', () => resolve(out))
      .on('error', (err: Error) => reject(new Error(`${path}: ${err.message}`)));
  });
}
