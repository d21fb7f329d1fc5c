import { createHash, randomUUID } from 'node:crypto';

/** A fresh event id. Redelivery keeps the id a producer chose, which is what makes ingest idempotent. */
export function newEventId(): string {
  return randomUUID();
}

/**
 * A UUID-shaped id derived from its parts (SHA-256, version nibble 5, RFC 4122 variant), so the
 * same facts always get the same id: a detector's replay gives its outputs the ids the live run
 * gave them, and a log imported twice collapses into one set of rows.
 */
export function deterministicId(...parts: Array<string | number>): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
