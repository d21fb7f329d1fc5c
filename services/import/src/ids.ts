import { createHash } from 'node:crypto';

/**
 * A UUID-shaped id derived from its parts (SHA-256, version nibble 5, RFC 4122 variant): the same
 * construction as the detector's ids (services/detector/src/deterministic-id.ts), copied rather
 * than imported so that this library does not load the detector. Importing the same log into the
 * same run id twice gives the same event ids, as a replay does for the detector's events.
 */
export function deterministicId(...parts: Array<string | number>): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
