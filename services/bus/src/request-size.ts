// How big a produce request is, counted the way a Kafka broker counts it (record batch format v2,
// no compression), so a producer can split a send under the broker's limits before the broker
// refuses it. Pure: used by the Kafka producer, and by the in-memory bus on both sides (its
// producer splits, its "broker" refuses what a real broker would).
import type { OutgoingMessage } from './bus.ts';

/** Kafka's default `message.max.bytes` / `max.message.bytes`: 1 MiB plus the 12-byte log overhead. */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
/** Default budget of one produce request: under the default limit, with room for framing. */
export const DEFAULT_MAX_REQUEST_BYTES = 900 * 1024;
/** Smallest request budget accepted: below this, splitting would send one message per request. */
export const MIN_MAX_REQUEST_BYTES = 1024;
/** Record batch header (baseOffset .. recordCount), counted in the broker's batch size. */
export const BATCH_OVERHEAD_BYTES = 61;

/** Bytes of a zigzag varint (Kafka's record fields). */
export function varintBytes(n: number): number {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  let bytes = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 0x80);
    bytes++;
  }
  return bytes;
}

function keyBytes(key: string | null): number {
  return key === null ? -1 : Buffer.byteLength(key, 'utf8');
}

function record(key: string | null, valueLength: number, deltaBytes: number): number {
  const k = keyBytes(key);
  // attributes, timestampDelta, offsetDelta, key length + key, value length + value, header count
  const body = 1 + deltaBytes + varintBytes(k) + Math.max(k, 0) + varintBytes(valueLength) + valueLength + 1;
  return varintBytes(body) + body;
}

/**
 * Upper bound of one record inside a batch: its timestamp and offset deltas take at most
 * 3 bytes each for any batch we send (under 2^20 records, within 2^20 ms).
 */
export function recordBytes(m: OutgoingMessage): number {
  return record(m.key, m.value.length, 6);
}

/** Exact size of a record at `offsetDelta` in its batch, sharing the batch's timestamp. */
export function recordBytesAt(m: OutgoingMessage, offsetDelta: number): number {
  return record(m.key, m.value.length, 1 + varintBytes(offsetDelta));
}

/** Exact size of a batch holding only this record, which is what the topic limit is checked against. */
export function singleRecordBatchBytes(m: OutgoingMessage): number {
  return BATCH_OVERHEAD_BYTES + record(m.key, m.value.length, 2);
}

/** The largest value that, with this key, still fits a topic whose max.message.bytes is `limit` (-1 if none). */
export function largestValueBytes(key: string | null, limit: number): number {
  let v = limit;
  for (let over = singleRecordBatchBytes({ key, value: Buffer.alloc(0) }) + v - limit; over > 0 && v >= 0; ) {
    v -= over;
    over = BATCH_OVERHEAD_BYTES + record(key, Math.max(v, 0), 2) - limit;
  }
  return v;
}

/**
 * Splits messages, in order, into consecutive chunks whose batch size stays within `budget`; a
 * message that alone exceeds the budget goes in a chunk of its own (the caller checks it
 * against the topic's limit first). Consecutive chunks sent one after another keep every key's order.
 */
export function splitBySize(messages: OutgoingMessage[], budget: number): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let chunk: OutgoingMessage[] = [];
  let bytes = BATCH_OVERHEAD_BYTES;
  for (const m of messages) {
    const size = recordBytes(m);
    if (chunk.length > 0 && bytes + size > budget) {
      chunks.push(chunk);
      chunk = [];
      bytes = BATCH_OVERHEAD_BYTES;
    }
    chunk.push(m);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** Validates a `maxRequestBytes` option once, at construction. */
export function checkMaxRequestBytes(value: number | undefined): number {
  const v = value ?? DEFAULT_MAX_REQUEST_BYTES;
  if (!Number.isInteger(v) || v < MIN_MAX_REQUEST_BYTES) {
    throw new Error(`maxRequestBytes must be an integer of at least ${MIN_MAX_REQUEST_BYTES}, got ${value}`);
  }
  return v;
}

/** Reads `max.message.bytes` from a topic config, with a clear error for a bad value. */
export function maxMessageBytesOf(topic: string, config: Record<string, string> | undefined): number | undefined {
  const raw = config?.['max.message.bytes'];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1) {
    throw new Error(`topic ${topic}: max.message.bytes must be a positive integer, got "${raw}"`);
  }
  return n;
}

/** One message is bigger than its topic accepts; no retry or split can send it. */
export class RecordTooLargeError extends Error {
  override readonly name = 'RecordTooLargeError';
  constructor(
    readonly topic: string,
    /** Index of the message in the send call. */
    readonly index: number,
    /** Its size as the broker counts it (a batch holding only it). */
    readonly bytes: number,
    /** The topic's max.message.bytes. */
    readonly limit: number,
  ) {
    super(
      `message ${index} for topic ${topic} is ${bytes} bytes as a record batch, over the topic's ` +
        `max.message.bytes of ${limit}: it can never be sent. Make it smaller, or raise the ` +
        `topic's max.message.bytes (TopicSpec.config) and the broker's socket.request.max.bytes if needed`,
    );
  }
}

/** A send failed after its first `delivered` messages were durably accepted. */
export class SendError extends Error {
  override readonly name = 'SendError';
  constructor(
    message: string,
    readonly topic: string,
    readonly delivered: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Finds the first message too large for the topic, as the broker would refuse it. */
export function firstTooLarge(topic: string, messages: OutgoingMessage[], limit: number): RecordTooLargeError | undefined {
  for (let i = 0; i < messages.length; i++) {
    const bytes = singleRecordBatchBytes(messages[i]!);
    if (bytes > limit) return new RecordTooLargeError(topic, i, bytes, limit);
  }
  return undefined;
}
