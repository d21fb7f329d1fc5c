import { describe, expect, it } from 'vitest';
import { SettingsError, readSettings } from './settings.ts';

describe('ingest settings', () => {
  it('has defaults that match the local stack', () => {
    expect(readSettings({})).toEqual({
      brokers: ['127.0.0.1:19092'],
      store: { kind: 'clickhouse', url: 'http://127.0.0.1:18123' },
      database: 'grokstream',
      partitions: 4,
      groupId: undefined,
    });
  });

  it('reads chdb and overrides', () => {
    const s = readSettings({
      GROKSTREAM_STORE: 'chdb',
      GROKSTREAM_CHDB_PATH: '/data/ch',
      GROKSTREAM_KAFKA_BROKERS: 'a:1, b:2',
      GROKSTREAM_PARTITIONS: '12',
      GROKSTREAM_INGEST_GROUP: 'mine',
    });
    expect(s).toMatchObject({ brokers: ['a:1', 'b:2'], store: { kind: 'chdb', path: '/data/ch' }, partitions: 12, groupId: 'mine' });
  });

  it('lists every problem at once, with the way out', () => {
    let err: unknown;
    try {
      readSettings({ GROKSTREAM_STORE: 'postgres', GROKSTREAM_PARTITIONS: 'many', GROKSTREAM_KAFKA_BROKERS: 'nohost', GROKSTREAM_DATABASE: 'a-b' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SettingsError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/GROKSTREAM_STORE must be clickhouse or chdb, got "postgres"/);
    expect(msg).toMatch(/GROKSTREAM_PARTITIONS must be a whole number/);
    expect(msg).toMatch(/bad Kafka broker address "nohost"/);
    expect(msg).toMatch(/GROKSTREAM_DATABASE must be a plain identifier/);
    expect(msg).toMatch(/Environment:/);
  });
});
