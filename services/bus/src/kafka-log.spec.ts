import { describe, expect, it } from 'vitest';
import { logLevel } from 'kafkajs';
import { kafkaLogCreator, kafkaLogLine } from './kafka-log.ts';
import { explainKafkaError, isUnreachable, kafkaError } from './kafka-errors.ts';
import { RecordTooLargeError } from './request-size.ts';

const entry = (level: number, namespace: string, log: Record<string, unknown>) => ({
  namespace,
  level,
  label: '',
  log: { timestamp: '2026-01-01T00:00:00.000Z', logger: 'kafkajs', message: '', ...log },
});

describe('kafkajs log lines', () => {
  it('turns an entry into one readable line', () => {
    expect(
      kafkaLogLine(
        entry(logLevel.WARN, 'Connection', {
          message: 'Connection error: connect ECONNREFUSED',
          broker: '127.0.0.1:19092',
          clientId: 'grokstream',
          stack: 'Error: at ...',
        }),
      ),
    ).toBe('kafka warn [Connection] Connection error: connect ECONNREFUSED (broker 127.0.0.1:19092)');
    expect(
      kafkaLogLine(entry(logLevel.ERROR, 'Consumer', { message: 'Crash', error: new Error('boom'), groupId: 'g', retryCount: 2, retryTime: 812 })),
    ).toBe('kafka error [Consumer] Crash: boom (groupId g, retryCount 2, retryTime 812)');
    // An error already in the message is not repeated; objects never become JSON.
    expect(
      kafkaLogLine(entry(logLevel.INFO, 'Admin', { message: 'Could not create topics: x', error: 'x', topics: [{ a: 1 }], payload: { b: 2 } })),
    ).toBe('kafka info [Admin] Could not create topics: x');
  });

  it('is a kafkajs logCreator that never throws into the client', () => {
    const lines: string[] = [];
    const write = kafkaLogCreator((level, line) => lines.push(`${level}|${line}`))(logLevel.INFO);
    write(entry(logLevel.DEBUG, 'Producer', { message: 'hello' }) as never);
    expect(lines).toEqual(['debug|kafka debug [Producer] hello']);
    const broken = kafkaLogCreator(() => {
      throw new Error('logger down');
    })(logLevel.INFO);
    expect(() => broken(entry(logLevel.ERROR, 'X', { message: 'y' }) as never)).not.toThrow();
  });
});

describe('Kafka errors', () => {
  const ctx = { brokers: ['10.0.0.1:9092'], what: 'connecting', requestTimeoutMs: 10_000 };
  const named = (name: string, message: string, cause?: unknown) => Object.assign(new Error(message, { cause }), { name });

  it('tells a silent broker from an absent one and from one that answered with an error', () => {
    expect(isUnreachable(new Error('Broker not connected'))).toBe('silent');
    expect(isUnreachable(named('KafkaJSRequestTimeoutError', 'Request ApiVersions(key: 18, version: 2) timed out'))).toBe('silent');
    expect(isUnreachable(named('KafkaJSNumberOfRetriesExceeded', 'x', named('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 10.0.0.1:9092')))).toBe('refused');
    expect(isUnreachable(Object.assign(new Error('The request timed out'), { type: 'REQUEST_TIMED_OUT' }))).toBeUndefined();
    expect(isUnreachable(new Error('something else'))).toBeUndefined();
  });

  it('names the address and the fix', () => {
    expect(explainKafkaError(new Error('Broker not connected'), ctx)).toBe(
      'Kafka at 10.0.0.1:9092 did not answer within 10 s (connecting): Broker not connected. ' +
        'Start the local stack with pnpm stack:up, or check GROKSTREAM_KAFKA_BROKERS.',
    );
    expect(explainKafkaError(named('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 10.0.0.1:9092'), ctx)).toMatch(
      /^cannot reach Kafka at 10\.0\.0\.1:9092 \(connecting\): Connection error: connect ECONNREFUSED 10\.0\.0\.1:9092\. Start the local stack/,
    );
    expect(explainKafkaError(Object.assign(new Error('Topic authorization failed'), { type: 'TOPIC_AUTHORIZATION_FAILED' }), ctx)).toBe(
      'Kafka at 10.0.0.1:9092: connecting failed: Topic authorization failed',
    );
    // A certificate failure is not an unreachable broker: point at the TLS settings instead.
    expect(explainKafkaError(named('KafkaJSConnectionError', 'Connection error: self-signed certificate in certificate chain'), ctx)).toMatch(
      /^Kafka at 10\.0\.0\.1:9092 refused the TLS connection \(connecting\): .*self-signed certificate.*GROKSTREAM_KAFKA_SSL_CA_FILE/,
    );
    const wrapped = kafkaError(new Error('Broker not connected'), ctx);
    expect((wrapped.cause as Error).message).toBe('Broker not connected');
    const clear = new RecordTooLargeError('t', 0, 10, 5);
    expect(kafkaError(clear, ctx)).toBe(clear);
  });
});
