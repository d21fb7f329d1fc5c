import { describe, expect, it } from 'vitest';
import { SettingsError, readSettings } from './settings.ts';
import { redact } from './secrets.ts';

const noFiles = (path: string): string => {
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
};

describe('settings', () => {
  it('defaults to the embedded store, and to the local stack once its server is named', () => {
    expect(readSettings({})).toEqual({
      kafka: { brokers: ['127.0.0.1:19092'], fromEnvironment: false },
      store: { kind: 'chdb', path: '.grokstream/data/chdb' },
      storeFromEnvironment: false,
      dataDir: '.grokstream/data',
      database: 'grokstream',
      partitions: 4,
      ingestGroup: undefined,
      logLevel: 'info',
    });
    expect(readSettings({ GROKSTREAM_DATA_DIR: '/tmp/d/' }).store).toEqual({ kind: 'chdb', path: '/tmp/d/chdb' });
    expect(readSettings({ GROKSTREAM_CLICKHOUSE_URL: 'http://127.0.0.1:18123' })).toMatchObject({
      store: { kind: 'clickhouse', url: 'http://127.0.0.1:18123', username: 'default' },
      storeFromEnvironment: true,
    });
    expect(readSettings({ GROKSTREAM_STORE: 'clickhouse' })).toEqual({
      kafka: { brokers: ['127.0.0.1:19092'], fromEnvironment: false },
      store: { kind: 'clickhouse', url: 'http://127.0.0.1:18123', username: 'default' },
      storeFromEnvironment: true,
      dataDir: '.grokstream/data',
      database: 'grokstream',
      partitions: 4,
      ingestGroup: undefined,
      logLevel: 'info',
    });
  });

  it('reads chdb and overrides', () => {
    const s = readSettings({
      GROKSTREAM_STORE: 'chdb',
      GROKSTREAM_CHDB_PATH: '/data/ch',
      GROKSTREAM_KAFKA_BROKERS: 'a:1, b:2',
      GROKSTREAM_PARTITIONS: '12',
      GROKSTREAM_INGEST_GROUP: 'mine',
      GROKSTREAM_LOG_LEVEL: 'DEBUG',
    });
    expect(s).toMatchObject({
      kafka: { brokers: ['a:1', 'b:2'], fromEnvironment: true },
      store: { kind: 'chdb', path: '/data/ch' },
      partitions: 12,
      ingestGroup: 'mine',
      logLevel: 'debug',
    });
  });

  it('lists every problem at once, with the way out', () => {
    let err: unknown;
    try {
      readSettings({ GROKSTREAM_STORE: 'postgres', GROKSTREAM_PARTITIONS: 'many', GROKSTREAM_KAFKA_BROKERS: 'nohost', GROKSTREAM_DATABASE: 'a-b', GROKSTREAM_LOG_LEVEL: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SettingsError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/GROKSTREAM_STORE must be clickhouse or chdb, got "postgres"/);
    expect(msg).toMatch(/GROKSTREAM_PARTITIONS must be a whole number/);
    expect(msg).toMatch(/bad Kafka broker address "nohost"/);
    expect(msg).toMatch(/GROKSTREAM_DATABASE must be a plain identifier/);
    expect(msg).toMatch(/GROKSTREAM_LOG_LEVEL must be one of error, warn, info, debug, got "loud"/);
    expect(msg).toMatch(/Environment/);
  });

  it('takes the ClickHouse password from the URL, a variable or a file, and never shows it', () => {
    const fromUrl = readSettings({ GROKSTREAM_CLICKHOUSE_URL: 'http://writer:s3cret-url@127.0.0.1:18123/' });
    expect(fromUrl.store).toMatchObject({ kind: 'clickhouse', url: 'http://127.0.0.1:18123', username: 'writer' });
    const store = fromUrl.store as { password: { reveal(): string } };
    expect(store.password.reveal()).toBe('s3cret-url');
    expect(JSON.stringify(fromUrl)).not.toMatch(/s3cret-url/);
    expect(String(store.password)).toBe('***');
    expect(redact('failed: connect to http://writer:s3cret-url@127.0.0.1:18123 refused (s3cret-url)')).toBe(
      'failed: connect to http://writer:***@127.0.0.1:18123 refused (***)',
    );

    const fromFile = readSettings(
      { GROKSTREAM_CLICKHOUSE_USER: 'ingest', GROKSTREAM_CLICKHOUSE_PASSWORD_FILE: '/run/secrets/ch' },
      (p) => (p === '/run/secrets/ch' ? 'from-file-pw\n' : noFiles(p)),
    );
    expect(fromFile.store).toMatchObject({ username: 'ingest' });
    expect((fromFile.store as { password: { reveal(): string } }).password.reveal()).toBe('from-file-pw');
    expect(redact('oops from-file-pw')).toBe('oops ***');

    expect(() => readSettings({ GROKSTREAM_CLICKHOUSE_PASSWORD: 'a', GROKSTREAM_CLICKHOUSE_PASSWORD_FILE: '/x' }, noFiles)).toThrow(
      /give GROKSTREAM_CLICKHOUSE_PASSWORD or GROKSTREAM_CLICKHOUSE_PASSWORD_FILE, not both/,
    );
    expect(() => readSettings({ GROKSTREAM_CLICKHOUSE_PASSWORD_FILE: '/missing' }, noFiles)).toThrow(
      /GROKSTREAM_CLICKHOUSE_PASSWORD_FILE: cannot read \/missing \(ENOENT\)/,
    );
  });

  it('passes Kafka TLS and SASL through, with the SASL password held as a secret', () => {
    const s = readSettings(
      {
        GROKSTREAM_KAFKA_SSL_CA_FILE: '/ca.pem',
        GROKSTREAM_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        GROKSTREAM_KAFKA_SASL_USERNAME: 'trainer',
        GROKSTREAM_KAFKA_SASL_PASSWORD: 'kafka-pw-123',
      },
      (p) => (p === '/ca.pem' ? '-----BEGIN CERTIFICATE-----' : noFiles(p)),
    );
    expect(s.kafka.ssl).toEqual({ ca: ['-----BEGIN CERTIFICATE-----'] });
    expect(s.kafka.sasl?.mechanism).toBe('scram-sha-512');
    expect(s.kafka.sasl?.password.reveal()).toBe('kafka-pw-123');
    expect(JSON.stringify(s)).not.toMatch(/kafka-pw-123/);
    expect(readSettings({ GROKSTREAM_KAFKA_SSL: 'true' }).kafka.ssl).toBe(true);
    expect(() => readSettings({ GROKSTREAM_KAFKA_SASL_MECHANISM: 'plain' })).toThrow(/SASL needs GROKSTREAM_KAFKA_SASL_USERNAME/);
    expect(() => readSettings({ GROKSTREAM_KAFKA_SASL_MECHANISM: 'kerberos', GROKSTREAM_KAFKA_SASL_USERNAME: 'u', GROKSTREAM_KAFKA_SASL_PASSWORD: 'pppp' })).toThrow(
      /GROKSTREAM_KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512/,
    );
  });
});
