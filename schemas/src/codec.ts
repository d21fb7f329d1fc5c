// Avro single-object encoding (Avro spec, "Single-object encoding"):
//   0xC3 0x01 | CRC-64-AVRO fingerprint of the writer schema's canonical form, little-endian | body
// Any Avro implementation can decode a message from the .avsc files alone; no registry needed.
// One topic can carry several record types because the fingerprint says which one it is.
import avro from 'avsc';
import type { Type } from 'avsc';
import { schemaFingerprint } from './fingerprint.ts';
import { DecodeError, EncodeError } from './errors.ts';
import { loadCurrentSchemas, loadHistory, type SchemaFile } from './catalog.ts';
import { replacementCheck, type ReplacementCheck } from './replacement-check.ts';
import type { EventMap, EventName } from './events.generated.ts';

export const MAGIC_0 = 0xc3;
export const MAGIC_1 = 0x01;
export const HEADER_BYTES = 10;
/** Bytes of a codec's encoding slab (EventCodec.encode). */
const SLAB_BYTES = 64 * 1024;

export type AnyEvent = { [N in EventName]: { name: N; value: EventMap[N] } }[EventName];

export interface Decoded<N extends EventName = EventName> {
  name: N;
  value: EventMap[N];
  /** Fingerprint of the writer schema, as 16 hex digits (little-endian wire order reversed). */
  writer: string;
}

interface Reader {
  name: EventName;
  type: Type;
  resolver: unknown; // avsc Resolver, undefined when the writer is the current schema
  writerType: Type;
  /** Finds U+FFFD in a decoded value (see replacement-check.ts); undefined: no strings there. */
  fffd: ReplacementCheck | undefined;
  /** The writer schema's fingerprint in hex, made once (it tags every decoded event). */
  writer: string;
}

/** A reader of values written with `writerType` (fingerprint `fp`), read as `type`. */
function reader(name: EventName, fp: bigint, type: Type, writerType: Type, resolver: unknown): Reader {
  return { name, type, resolver, writerType, fffd: replacementCheck(type), writer: fingerprintHex(fp) };
}

export function fingerprintHex(fp: bigint): string {
  return fp.toString(16).padStart(16, '0');
}

export class EventCodec {
  private readonly writers = new Map<EventName, { type: Type; header: Buffer; fp: bigint }>();
  private readonly readers = new Map<bigint, Reader>();
  /**
   * Messages are encoded one after another into a slab and returned as views of it, as Node's own
   * Buffer pool does for small buffers: a copy per message out of a scratch buffer was ~5% of a
   * producer's CPU. A slab lives while any message in it does (64 KiB: a few hundred events).
   */
  private slab = Buffer.allocUnsafe(SLAB_BYTES);
  private used = 0;

  constructor(current: SchemaFile[], history: SchemaFile[] = []) {
    for (const { name, schema } of current) {
      const type = avro.Type.forSchema(schema as avro.Schema);
      const { fingerprint, bytes } = schemaFingerprint(schema);
      const header = Buffer.concat([Buffer.from([MAGIC_0, MAGIC_1]), Buffer.from(bytes)]);
      this.writers.set(name as EventName, { type, header, fp: fingerprint });
      this.readers.set(fingerprint, reader(name as EventName, fingerprint, type, type, undefined));
    }
    for (const { name, file, schema } of history) {
      const { fingerprint } = schemaFingerprint(schema);
      if (this.readers.has(fingerprint)) continue;
      const current = this.writers.get(name as EventName);
      if (!current) throw new Error(`${file}: no current schema named ${name} to read it with`);
      const writerType = avro.Type.forSchema(schema as avro.Schema);
      let resolver: unknown;
      try {
        resolver = current.type.createResolver(writerType);
      } catch (err) {
        throw new Error(
          `${file}: the current ${name} schema cannot read this released version (${(err as Error).message}); ` +
            'make the change compatible (add fields with defaults, never change a type) or publish a new event name',
        );
      }
      this.readers.set(fingerprint, reader(name as EventName, fingerprint, current.type, writerType, resolver));
    }
  }

  /** The codec for the schemas shipped in this package (current + history). */
  static load(): EventCodec {
    return new EventCodec(loadCurrentSchemas(), loadHistory());
  }

  fingerprint(name: EventName): bigint {
    return this.writer(name).fp;
  }

  /** Avro type of the current schema, for callers that need avsc directly (tests, tools). */
  type(name: EventName): Type {
    return this.writer(name).type;
  }

  knownFingerprints(): bigint[] {
    return [...this.readers.keys()];
  }

  encode<N extends EventName>(name: N, value: EventMap[N]): Buffer {
    const { type, header } = this.writer(name);
    for (;;) {
      const start = this.used;
      let needed = HEADER_BYTES;
      if (this.slab.length - start >= HEADER_BYTES) {
        header.copy(this.slab, start);
        let end: number;
        try {
          end = type.encode(value, this.slab, start + HEADER_BYTES);
        } catch {
          throw new EncodeError(name, this.problems(type, value));
        }
        if (end >= 0) {
          this.used = end;
          return this.slab.subarray(start, end);
        }
        // avsc returns minus the bytes it lacked: the message needs the slab's rest and those.
        needed = this.slab.length - start - end;
      }
      // A fresh slab (the old one stays with the messages in it), large enough for this message.
      this.slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, needed));
      this.used = 0;
    }
  }

  /** Throws DecodeError; never returns a value that did not parse completely. */
  decode(bytes: Uint8Array): AnyEvent & { writer: string } {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (buf.length < 2) throw new DecodeError('truncated', `message has ${buf.length} bytes, shorter than the magic`);
    if (buf[0] !== MAGIC_0 || buf[1] !== MAGIC_1) {
      throw new DecodeError(
        'bad-magic',
        `first bytes are ${buf.subarray(0, 2).toString('hex')}, not c301: not Avro single-object encoding`,
      );
    }
    if (buf.length < HEADER_BYTES) {
      throw new DecodeError('truncated', `message has ${buf.length} bytes, shorter than the 10-byte header`);
    }
    const fp = buf.readBigUInt64LE(2);
    const reader = this.readers.get(fp);
    if (!reader) {
      throw new DecodeError(
        'unknown-fingerprint',
        `writer schema fingerprint ${fingerprintHex(fp)} is not a released grokstream schema (newer producer?)`,
      );
    }
    let result: { value: unknown; offset: number };
    try {
      result = reader.type.decode(buf, HEADER_BYTES, reader.resolver as never);
    } catch (err) {
      throw new DecodeError('malformed-body', `${reader.name} body does not parse: ${(err as Error).message}`);
    }
    if (result.offset < 0) throw new DecodeError('truncated', `${reader.name} body ends early`);
    if (result.offset !== buf.length) {
      throw new DecodeError('trailing-bytes', `${reader.name} body has ${buf.length - result.offset} bytes left over`);
    }
    if (reader.fffd?.(result.value) && !this.bodyIsValidUtf8(reader, buf)) {
      throw new DecodeError('malformed-body', `${reader.name} body has a string that is not valid UTF-8`);
    }
    return { name: reader.name, value: result.value, writer: reader.writer } as AnyEvent & { writer: string };
  }

  /**
   * avsc decodes invalid UTF-8 to U+FFFD without complaint, which would be a wrong value. Only
   * when a U+FFFD shows up (rare in real data) do we pay for the check: a faithful decode
   * re-encodes to the same bytes.
   */
  private bodyIsValidUtf8(reader: Reader, buf: Buffer): boolean {
    const body = buf.subarray(HEADER_BYTES);
    const asWritten = reader.writerType.fromBuffer(body);
    return reader.writerType.toBuffer(asWritten).equals(body);
  }

  private writer(name: EventName) {
    const w = this.writers.get(name);
    if (!w) throw new Error(`unknown event type ${String(name)}`);
    return w;
  }

  private problems(type: Type, value: unknown): string[] {
    const problems: string[] = [];
    type.isValid(value, {
      errorHook: (path: string[], v: unknown, t: Type) => {
        problems.push(`${path.join('.') || '(root)'}: ${JSON.stringify(v) ?? String(v)} is not a valid ${t.typeName}`);
      },
    });
    return problems.length > 0 ? problems : ['value does not match the schema'];
  }
}
