export * from './events.generated.ts';
export { EventCodec, fingerprintHex, HEADER_BYTES, type AnyEvent, type Decoded } from './codec.ts';
export { DecodeError, EncodeError, type DecodeErrorKind } from './errors.ts';
export { parsingCanonicalForm } from './canonical.ts';
export { crc64Avro, schemaFingerprint } from './fingerprint.ts';
export { loadCurrentSchemas, loadHistory, EVENT_ORDER } from './catalog.ts';
export { TOPICS, type TopicName } from './topics.ts';
export { newEventId } from './ids.ts';
export { exampleStepMetrics } from './examples.ts';
