// The event log file: every event of a run appended to an Avro object container file whose
// schema is the union of the event records, so any Avro implementation can read it (the
// embedded mode's durable record, and a source for `grokstream replay`).
import { createWriteStream, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
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

  /**
   * `codec: 'deflate'` compresses each block (raw deflate, as the Avro spec says): for logs kept
   * for long, such as the detector's recorded evaluation runs. Both codecs read back alike.
   */
  constructor(
    readonly path: string,
    o: { codec?: 'null' | 'deflate' } = {},
  ) {
    this.encoder = new avro.streams.BlockEncoder(eventLogType(), { codec: o.codec ?? 'null' });
    // Opened here, synchronously, so a bad path is an error at once (ENOENT naming it), not a
    // stream 'error' event later.
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (err) {
      throw new Error(`cannot write the event log ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const file = createWriteStream('', { fd });
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

/** A damaged event log: where it went wrong, and whether the file is merely cut short. */
export class EventLogError extends Error {
  override readonly name = 'EventLogError';
  constructor(
    readonly path: string,
    message: string,
    /** Byte offset of the block (or header) that could not be read. */
    readonly byteOffset: number,
    /** True when the file ends inside a block: everything before byteOffset is intact. */
    readonly truncated: boolean,
  ) {
    super(`${path}: ${message}`);
  }
}

export interface ReadEventLogOptions {
  /** Return the events of the complete blocks of a cut-short file instead of failing. */
  allowTruncated?: boolean;
  onTruncated?: (t: { byteOffset: number; fileBytes: number; events: number }) => void;
}

const headerType = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});
const longType = avro.Type.forSchema('long');

/**
 * Reads an event log file back, checking its framing block by block (avsc's file decoder ends
 * quietly on a cut-short file), so a damaged file is an error naming the byte offset.
 */
export async function readEventLog(path: string, o: ReadEventLogOptions = {}): Promise<AnyEvent[]> {
  const buf = await readFile(path);
  if (buf.length < 4 || !buf.subarray(0, 4).equals(Buffer.from('Obj\x01', 'latin1'))) {
    throw new EventLogError(path, "not an Avro object container file (no 'Obj' magic)", 0, false);
  }
  const head = headerType.decode(buf, 0) as { value: { meta: Record<string, Buffer>; sync: Buffer }; offset: number };
  if (head.offset < 0) throw new EventLogError(path, `cut short inside the file header (${buf.length} bytes)`, 0, true);
  const { meta, sync } = head.value;
  const codec = meta['avro.codec']?.toString() ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') throw new EventLogError(path, `unsupported block codec "${codec}" (null and deflate are read)`, 0, false);
  let writer: Type;
  try {
    writer = avro.Type.forSchema(JSON.parse(meta['avro.schema']?.toString() ?? 'null') as avro.Schema, { wrapUnions: 'auto' });
  } catch (err) {
    throw new EventLogError(path, `its writer schema is unreadable: ${(err as Error).message}`, 0, false);
  }
  const reader = eventLogType();
  const resolver = reader.createResolver(writer);
  const out: AnyEvent[] = [];
  let pos = head.offset;
  let block = 0;
  while (pos < buf.length) {
    const start = pos;
    const cut = (what: string): AnyEvent[] => {
      if (o.allowTruncated) {
        o.onTruncated?.({ byteOffset: start, fileBytes: buf.length, events: out.length });
        return out;
      }
      throw new EventLogError(path, `cut short at byte ${start} of ${buf.length}: ${what} (block ${block}; the ${out.length} events before it are intact)`, start, true);
    };
    const count = longType.decode(buf, pos) as { value: number; offset: number };
    if (count.offset < 0) return cut('the block header ends early');
    const size = longType.decode(buf, count.offset) as { value: number; offset: number };
    if (size.offset < 0) return cut('the block header ends early');
    if (count.value < 0 || size.value < 0) throw new EventLogError(path, `corrupt block header at byte ${start}`, start, false);
    const end = size.offset + size.value;
    if (end + 16 > buf.length) return cut(`the block needs ${size.value + 16} bytes, ${buf.length - size.offset} are left`);
    if (!buf.subarray(end, end + 16).equals(sync)) throw new EventLogError(path, `corrupt block at byte ${start} (sync marker mismatch)`, start, false);
    let data = buf.subarray(size.offset, end);
    if (codec === 'deflate') data = inflateRawSync(data);
    let at = 0;
    for (let i = 0; i < count.value; i++) {
      const r = reader.decode(data, at, resolver) as { value: Record<string, unknown>; offset: number };
      if (r.offset < 0) throw new EventLogError(path, `corrupt record ${i} in the block at byte ${start}`, start, false);
      at = r.offset;
      const [full, value] = Object.entries(r.value)[0]!;
      out.push({ name: full.slice(NAMESPACE.length) as EventName, value } as AnyEvent);
    }
    if (at !== data.length) throw new EventLogError(path, `corrupt block at byte ${start} (${data.length - at} bytes after its ${count.value} records)`, start, false);
    pos = end + 16;
    block++;
  }
  return out;
}
