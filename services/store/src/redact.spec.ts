import { describe, expect, it } from 'vitest';
import { redactError, redactText, redactUrl } from './redact.ts';

describe('redactUrl', () => {
  it('masks the password and keeps the rest as written', () => {
    expect(redactUrl('http://reader:s3cret@127.0.0.1:18123')).toBe('http://reader:***@127.0.0.1:18123');
    expect(redactUrl('https://u:p%40ss@ch.example:8443/db?x=1')).toBe('https://u:***@ch.example:8443/db?x=1');
    // An unencoded @ in the password: everything up to the last @ before the host is secret.
    expect(redactUrl('http://u:a@b:c@host:1/')).toBe('http://u:***@host:1/');
    expect(redactUrl('http://:onlypass@host:1')).toBe('http://:***@host:1');
  });

  it('masks passwords and tokens given as URL parameters', () => {
    expect(redactUrl('http://host:1/?user=u&password=p&x=2')).toBe('http://host:1/?user=u&password=***&x=2');
    expect(redactUrl('http://host:1?access_token=abc')).toBe('http://host:1?access_token=***');
  });

  it('leaves URLs without secrets alone', () => {
    for (const url of ['http://127.0.0.1:18123', 'http://user@host:1/', 'not a url', '']) expect(redactUrl(url)).toBe(url);
  });
});

describe('redactText', () => {
  it('masks URL passwords anywhere in a message, and the given secrets raw and URL-encoded', () => {
    expect(redactText('connect to http://a:b@h:1 failed; retry http://c:d@h:2')).toBe(
      'connect to http://a:***@h:1 failed; retry http://c:***@h:2',
    );
    expect(redactText('bad p@ss! or p%40ss!', ['p@ss!'])).toBe('bad *** or ***');
    expect(redactText('nothing here', [''])).toBe('nothing here');
  });
});

describe('redactError', () => {
  it('masks message, stack, string fields and causes in place, keeping class and code', () => {
    class ClientError extends Error {
      code = '516';
      url = 'http://u:hunter22@h:1';
    }
    const cause = new TypeError('Invalid URL: http://u:hunter22@h:1 x');
    const err = new ClientError('request to http://u:hunter22@h:1 failed: hunter22 rejected', { cause });
    const same = redactError(err, ['hunter22']);
    expect(same).toBe(err);
    expect(same).toBeInstanceOf(ClientError);
    expect(same.code).toBe('516');
    expect(same.message).toBe('request to http://u:***@h:1 failed: *** rejected');
    expect(same.url).toBe('http://u:***@h:1');
    expect(same.stack).not.toContain('hunter22');
    expect((same.cause as Error).message).toBe('Invalid URL: http://u:***@h:1 x');
    expect(JSON.stringify(same, Object.getOwnPropertyNames(same))).not.toContain('hunter22');
  });

  it('passes non-errors through and survives cycles', () => {
    expect(redactError('plain', ['x'])).toBe('plain');
    const a = new Error('a secret') as Error & { other?: Error };
    const b = new Error('b secret', { cause: a });
    a.other = b;
    redactError(a, ['secret']);
    expect([a.message, b.message]).toEqual(['a ***', 'b ***']);
  });
});
