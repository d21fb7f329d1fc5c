// What the server store says when it cannot do its job, with no server: nothing listens on port 1.
import { describe, expect, it } from 'vitest';
import { ClickHouseStore } from './clickhouse-store.ts';

const SECRET = 'pa$$-w0rd@with:odd/chars';
const URL_WITH_PASSWORD = `http://reader:${encodeURIComponent(SECRET)}@127.0.0.1:1`;

/** Every text an error carries that a log line might print. */
function texts(err: unknown): string[] {
  const e = err as Error & { cause?: unknown };
  return [String(e.message), String(e.stack), JSON.stringify(e, Object.getOwnPropertyNames(e)), ...(e.cause ? texts(e.cause) : [])];
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err,
  );
}

describe('ClickHouseStore without a server', () => {
  it('shows its URL with the password masked', () => {
    const store = new ClickHouseStore({ url: URL_WITH_PASSWORD });
    expect(store.url).toBe('http://reader:***@127.0.0.1:1');
  });

  it('names the server it cannot reach without the password from the URL', async () => {
    const store = new ClickHouseStore({ url: URL_WITH_PASSWORD, requestTimeoutMs: 2000 });
    const err = await failure(store.migrate());
    expect((err as Error).message).toMatch(/^cannot reach ClickHouse at http:\/\/reader:\*\*\*@127\.0\.0\.1:1: /);
    for (const text of texts(err)) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(encodeURIComponent(SECRET));
    }
    await store.close();
  });

  it('refuses a URL it cannot parse without echoing it', () => {
    expect(() => new ClickHouseStore({ url: 'http://reader:secret@[bad' })).toThrow(
      'not a ClickHouse URL: http://reader:***@[bad (expected http[s]://[user:password@]host:port)',
    );
  });
});
