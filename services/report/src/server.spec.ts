// The live page's server (grokstream ui) over a seeded chdb store, on a free port: each route,
// the errors, and that close() gives the port back.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportModel } from './report-model.ts';
import { ReportSelectionError } from './report-model.ts';
import { listRuns, requestFrom, runsOrWaiting, startUi, type UiServer } from './server.ts';
import { seededStore, type TestStore } from './testing-store.ts';

let t: TestStore;
let ui: UiServer;
const logged: string[] = [];

beforeAll(async () => {
  t = await seededStore('report-server');
  ui = await startUi({ query: t.query, database: t.database, port: 0, refreshMs: 1500, log: (line) => logged.push(line) });
}, 60_000);

afterAll(async () => {
  await ui?.close();
  await t?.close();
}, 60_000);

const get = (path: string, init?: RequestInit) => fetch(new URL(path, ui.url), init);

describe('startUi', () => {
  it('listens on loopback, on the free port it was given', () => {
    expect(ui.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(Number(new URL(ui.url).port)).toBeGreaterThan(0);
  });

  it('/: the live page, without a model', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<script type="application/json" id="grokstream-config">{"mode":"live","refreshMs":1500}</script>');
    expect(html).not.toContain('id="grokstream-model"');
  });

  it('/api/runs: the runs, latest first, and the sweeps with their sizes', async () => {
    const res = await get('/api/runs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as { runs: Record<string, unknown>[]; sweeps: Record<string, unknown>[] };
    expect(body.runs.map((r) => [r.run_id, r.sweep, r.ended, r.last_step])).toEqual([
      ['grok-c', null, 'completed', 119],
      ['grok-b', 'wd', 'completed', 199],
      ['grok-a', 'wd', 'early_stopped', 299],
    ]);
    expect(body.sweeps).toEqual([{ sweep: 'wd', runs: 2 }]);
    expect(body).toEqual(JSON.parse(JSON.stringify(await listRuns(t.query, t.database))));
  });

  it('/api/runs before anything is stored: 200, no runs, and why (the page waits rather than fails)', async () => {
    expect(await runsOrWaiting(t.query, 'empty_db')).toEqual({ runs: [], sweeps: [], waiting: 'no runs in database empty_db yet' });
    // A store with no tables at all: the reader's selection error becomes the reason to wait.
    const bare = async (): Promise<Record<string, unknown>[]> => {
      throw new ReportSelectionError('nothing stored in chdb /x yet');
    };
    expect(await runsOrWaiting(bare, 'grokstream')).toEqual({ runs: [], sweeps: [], waiting: 'nothing stored in chdb /x yet' });
    // Any other failure is still a failure.
    const broken = async (): Promise<Record<string, unknown>[]> => {
      throw new Error('connection refused');
    };
    await expect(runsOrWaiting(broken, 'grokstream')).rejects.toThrow('connection refused');
  });

  it('/api/report?run=ID: the model of that run', async () => {
    const res = await get('/api/report?run=grok-a');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const m = (await res.json()) as ReportModel;
    expect(m.title).toBe('grok-a');
    expect(m.runs.map((r) => r.run_id)).toEqual(['grok-a']);
    const loss = m.sections[0]!.panels.find((p) => p.id === 'loss')!;
    expect(loss.sql).toContain("run_id IN ('grok-a')");
    expect(loss.view).toMatchObject({ kind: 'chart', bands: 4 });
  });

  it('/api/report with no selection: the latest run; with two runs: both', async () => {
    const latest = (await (await get('/api/report')).json()) as ReportModel;
    expect(latest.runs.map((r) => r.run_id)).toEqual(['grok-c']);
    const both = (await (await get('/api/report?run=grok-a&run=grok-c')).json()) as ReportModel;
    expect(both.runs.map((r) => r.run_id)).toEqual(['grok-a', 'grok-c']);
  });

  it('/api/report?run=missing: 404 with the error naming the run and the runs there are', async () => {
    const res = await get('/api/report?run=missing');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ error: `no run missing in ${t.database}; latest runs: grok-c, grok-b, grok-a` });
    // A selection error is the reader's, not the server's: not logged.
    expect(logged).toEqual([]);
  });

  it('/report.html?sweep=...: the self-contained report of the sweep; an unknown sweep is a 404', async () => {
    const res = await get('/report.html?sweep=wd');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain('<title>grokstream: sweep wd (2 runs)</title>');
    const json = /<script type="application\/json" id="grokstream-model">([^<]*)<\/script>/.exec(html)?.[1];
    const m = JSON.parse(json!) as ReportModel;
    expect(m.sweep).toBe('wd');
    expect(m.runs.map((r) => r.run_id)).toEqual(['grok-a', 'grok-b']);
    expect(html).toContain('{"mode":"file"}');

    const missing = await get('/report.html?sweep=nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: `no runs of sweep nope in ${t.database}; sweeps: wd` });
  });

  it('/favicon.ico: 204, no icon and no error (browsers ask for it unprompted)', async () => {
    const res = await get('/favicon.ico');
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });

  it('another path: 404 JSON; another method: 405', async () => {
    const res = await get('/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'no page /nope: / is the live page' });
    for (const path of ['/', '/api/report?run=grok-a']) {
      const post = await get(path, { method: 'POST', body: 'x' });
      expect(post.status).toBe(405);
      expect(await post.text()).toBe('GET only\n');
    }
    expect((await get('/api/runs', { method: 'DELETE' })).status).toBe(405);
  });

  it('a store failure is a 500 with the message, and is logged', async () => {
    const lines: string[] = [];
    const broken = await startUi({ query: () => Promise.reject(new Error('store is down')), database: t.database, port: 0, log: (l) => lines.push(l) });
    try {
      const res = await fetch(new URL('/api/runs', broken.url));
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ error: 'store is down' });
      expect(lines).toEqual(['ui: /api/runs: store is down']);
    } finally {
      await broken.close();
    }
  });

  it('close() frees the port, even with a connection kept alive', async () => {
    const other = await startUi({ query: t.query, database: t.database, port: 0 });
    const port = Number(new URL(other.url).port);
    const res = await fetch(new URL('/', other.url), { headers: { connection: 'keep-alive' } });
    expect(res.status).toBe(200);
    await res.text();
    await other.close();
    await expect(fetch(new URL('/', other.url))).rejects.toThrow();
    // The port can be listened on again at once.
    await new Promise<void>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
    });
  });

  it('a port in use: an error that says so', async () => {
    const port = Number(new URL(ui.url).port);
    await expect(startUi({ query: t.query, database: t.database, port })).rejects.toThrow(`port ${port} on 127.0.0.1 is in use`);
  });
});

describe('requestFrom', () => {
  it('reads run (repeatable), sweep and points; ignores empty and bad values', () => {
    expect(requestFrom(new URLSearchParams('run=a&run=b&run='), 'db')).toEqual({ database: 'db', runs: ['a', 'b'] });
    expect(requestFrom(new URLSearchParams('sweep=wd&points=250'), 'db')).toEqual({ database: 'db', sweep: 'wd', points: 250 });
    expect(requestFrom(new URLSearchParams('sweep=&points=-3'), 'db')).toEqual({ database: 'db' });
    expect(requestFrom(new URLSearchParams('points=1.5'), 'db')).toEqual({ database: 'db' });
    expect(requestFrom(new URLSearchParams(''), 'db')).toEqual({ database: 'db' });
  });
});
