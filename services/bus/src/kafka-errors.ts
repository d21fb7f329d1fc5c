// kafkajs errors rarely say which broker they mean or what to do ("Broker not connected" after
// a silent broker timed out). These turn them into errors that name the address and the fix.
import { RecordTooLargeError, SendError } from './request-size.ts';

export const HOW_TO_FIX_KAFKA = 'Start the local stack with pnpm stack:up, or check GROKSTREAM_KAFKA_BROKERS.';

/** kafkajs error names that mean "the broker could not be reached or did not answer". */
const UNREACHABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
]);
const SILENT = /timed out|not connected/i;
const REFUSED = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ECONNRESET|EPIPE|Connection error|Connection timeout|Closed connection/i;

/** The error and its causes, outermost first. */
export function errorChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  let e: unknown = err;
  while (e !== undefined && e !== null && chain.length < 8 && !chain.includes(e)) {
    chain.push(e);
    e = (e as { cause?: unknown }).cause;
  }
  return chain;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The error's message with its distinct causes: "KafkaJS retries exhausted: connect ECONNREFUSED ...". */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  for (const e of errorChain(err)) {
    const m = messageOf(e);
    if (m && !parts.some((p) => p.includes(m))) parts.push(m);
  }
  return parts.join(': ') || String(err);
}

/** A Kafka protocol error code (e.g. MESSAGE_TOO_LARGE) anywhere in the chain. */
export function kafkaErrorType(err: unknown): string | undefined {
  for (const e of errorChain(err)) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string') return type;
  }
  return undefined;
}

/**
 * 'silent': a connection was made but the broker did not answer in time; 'refused': no
 * connection at all. A broker that answered with a protocol error (even REQUEST_TIMED_OUT) is neither.
 */
export function isUnreachable(err: unknown): 'silent' | 'refused' | undefined {
  if (kafkaErrorType(err) !== undefined) return undefined;
  const chain = errorChain(err);
  const text = chain.map(messageOf).join(' | ');
  if (SILENT.test(text)) return 'silent';
  if (REFUSED.test(text) || chain.some((e) => e instanceof Error && UNREACHABLE_NAMES.has(e.name))) return 'refused';
  return undefined;
}

export interface KafkaErrorContext {
  brokers: string[];
  /** What was being done, e.g. "creating topics", "sending to grokstream.events.v1". */
  what: string;
  requestTimeoutMs: number;
}

/** The message of an error from `what`, naming the brokers and, when it is about reaching them, the fix. */
const TLS_TROUBLE = /certificate|self[- ]signed|unable to verify|SSL routines|wrong version number|handshake/i;
const SECURITY_HINT =
  'The broker speaks TLS or SASL on this port and the client does not agree with it: check GROKSTREAM_KAFKA_SSL, ' +
  'GROKSTREAM_KAFKA_SSL_CA_FILE (the CA that signed the broker certificate) and GROKSTREAM_KAFKA_SASL_*.';

export function explainKafkaError(err: unknown, ctx: KafkaErrorContext): string {
  const at = ctx.brokers.join(',');
  const cause = describeError(err);
  // A TLS failure looks like a connection error to kafkajs; "start the stack" would mislead.
  if (TLS_TROUBLE.test(cause)) return `Kafka at ${at} refused the TLS connection (${ctx.what}): ${cause}. ${SECURITY_HINT}`;
  switch (isUnreachable(err)) {
    case 'silent':
      return `Kafka at ${at} did not answer within ${ctx.requestTimeoutMs / 1000} s (${ctx.what}): ${cause}. ${HOW_TO_FIX_KAFKA}`;
    case 'refused':
      return `cannot reach Kafka at ${at} (${ctx.what}): ${cause}. ${HOW_TO_FIX_KAFKA}`;
    default:
      return `Kafka at ${at}: ${ctx.what} failed: ${cause}`;
  }
}

/** Wraps an error as explainKafkaError says, keeping errors that are already clear as they are. */
export function kafkaError(err: unknown, ctx: KafkaErrorContext): Error {
  if (err instanceof RecordTooLargeError || err instanceof SendError) return err;
  return new Error(explainKafkaError(err, ctx), { cause: err });
}
