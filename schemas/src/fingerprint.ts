// CRC-64-AVRO, the 64-bit Rabin fingerprint of the Avro specification ("Schema Fingerprints").
// avsc 5.7 lacks it: its fingerprint() hashes its own JSON with MD5/SHA-256.
import { parsingCanonicalForm } from './canonical.ts';

export const EMPTY = 0xc15d213aa4d7a795n;
const MASK = 0xffffffffffffffffn;

// The spec's table: the fingerprint of each single byte, shifted through the polynomial EMPTY.
// -(fp & 1n) is all ones when the low bit is set, so the XOR with EMPTY happens only then.
const TABLE: bigint[] = Array.from({ length: 256 }, (_, i) => {
  let fp = BigInt(i);
  for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n));
  return fp;
});

/**
 * Unsigned 64-bit fingerprint. BigInt, not two 32-bit halves: measured on Node 20 over 13 KB
 * of schema text, halves ran about 25x faster (2.5 vs 65 ns a byte), but this runs once per
 * schema when a codec is built (about 0.1 ms for our largest schema), so clarity wins.
 */
export function crc64Avro(data: Uint8Array): bigint {
  let fp = EMPTY;
  for (const byte of data) fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(byte)) & 0xffn)]!;
  return fp;
}

/** The 8 bytes that follow C3 01 in single-object encoding: little-endian. A signed
 *  (Java-style) fingerprint gives the same bytes as its unsigned twin. */
export function fingerprintBytesLE(fp: bigint): Uint8Array {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(fp & MASK);
  return out;
}

export function schemaFingerprint(schema: unknown): { canonical: string; fingerprint: bigint; bytes: Uint8Array } {
  const canonical = parsingCanonicalForm(schema);
  const fingerprint = crc64Avro(Buffer.from(canonical, 'utf8'));
  return { canonical, fingerprint, bytes: fingerprintBytesLE(fingerprint) };
}
