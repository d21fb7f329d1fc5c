// Typed failures of the wire format. Consumers route DecodeError to the dead-letter topic.

export type DecodeErrorKind =
  | 'bad-magic' // not Avro single-object encoding (first two bytes are not C3 01)
  | 'truncated' // shorter than the header, or the body ends early
  | 'unknown-fingerprint' // a writer schema we have never released
  | 'malformed-body' // the body does not parse as the writer schema
  | 'trailing-bytes' // the body parsed but bytes were left over
  | 'unexpected-event' // a well-formed event of a kind this consumer's topics do not carry
  | 'invalid-event'; // a well-formed event whose content this consumer refuses (EventConsumerOptions.check)

export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    readonly kind: DecodeErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export class EncodeError extends Error {
  override readonly name = 'EncodeError';
  constructor(
    readonly event: string,
    readonly problems: string[],
  ) {
    super(`cannot encode ${event}: ${problems.join('; ')}`);
  }
}
