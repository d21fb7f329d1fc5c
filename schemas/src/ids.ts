import { randomUUID } from 'node:crypto';

/** A fresh event id. Redelivery keeps the id a producer chose, which is what makes ingest idempotent. */
export function newEventId(): string {
  return randomUUID();
}
