// The live page over HTTP (grokstream ui): the report page without a model, which asks this
// server for the runs and sweeps (/api/runs) and for the model of what is chosen (/api/report),
// again every few seconds while runs train. /report.html gives the same selection as a
// self-contained file. Loopback only by default: the store behind it is not for the network.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { QueryRows } from '@grokstream/panels';
import { buildReport, ReportSelectionError, type ReportRequest } from './report-model.ts';
import { livePageHtml, reportHtml, scriptJson } from './page.ts';

export interface UiOptions {
  query: QueryRows;
  database: string;
  host?: string;
  /** 0: any free port. */
  port: number;
  refreshMs?: number;
  log?: (line: string) => void;
}

export interface UiServer {
  url: string;
  close(): Promise<void>;
}

/** The selection in a query string: run=ID (repeatable) or sweep=ID; nothing: the latest run. */
export function requestFrom(params: URLSearchParams, database: string): ReportRequest {
  const sweep = params.get('sweep');
  const runs = params.getAll('run').filter(Boolean);
  const points = Number(params.get('points'));
  return { database, ...(sweep ? { sweep } : {}), ...(runs.length ? { runs } : {}), ...(Number.isInteger(points) && points > 0 ? { points } : {}) };
}

export async function listRuns(query: QueryRows, database: string): Promise<{ runs: Record<string, unknown>[]; sweeps: Record<string, unknown>[] }> {
  const runs = await query(
    `SELECT run_id, sweep, started, task, last_phase, last_step, ended, memorized_step, grokked_step FROM ${database}.run_summary ORDER BY started DESC, run_id LIMIT 200`,
  );
  const sweeps = await query(`SELECT sweep, count() AS runs FROM ${database}.run_summary WHERE isNotNull(sweep) GROUP BY sweep ORDER BY sweep`);
  return { runs, sweeps };
}

/**
 * The run list for the live page. A store with nothing in it yet is not an error there: the page
 * is often opened before the first run's first event lands (grokstream run --ui), so the list is
 * empty and `waiting` says why, and the page asks again at its next refresh.
 */
export async function runsOrWaiting(query: QueryRows, database: string): Promise<{ runs: Record<string, unknown>[]; sweeps: Record<string, unknown>[]; waiting?: string }> {
  try {
    const list = await listRuns(query, database);
    return list.runs.length ? list : { ...list, waiting: `no runs in database ${database} yet` };
  } catch (err) {
    if (err instanceof ReportSelectionError) return { runs: [], sweeps: [], waiting: err.message };
    throw err;
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

export async function startUi(o: UiOptions): Promise<UiServer> {
  const page = livePageHtml(o.refreshMs);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'GET only\n');
    try {
      switch (url.pathname) {
        case '/':
          return send(res, 200, 'text/html; charset=utf-8', page);
        case '/api/runs':
          return send(res, 200, 'application/json', scriptJson(await runsOrWaiting(o.query, o.database)));
        case '/api/report':
          return send(res, 200, 'application/json', scriptJson(await buildReport(o.query, requestFrom(url.searchParams, o.database))));
        case '/favicon.ico':
          // Browsers ask for it unprompted; "no icon" is not a failure to log in their console.
          res.writeHead(204, { 'cache-control': 'max-age=86400' });
          return res.end();
        case '/report.html':
          return send(res, 200, 'text/html; charset=utf-8', reportHtml(await buildReport(o.query, requestFrom(url.searchParams, o.database))));
        default:
          return send(res, 404, 'application/json', JSON.stringify({ error: `no page ${url.pathname}: / is the live page` }));
      }
    } catch (err) {
      const known = err instanceof ReportSelectionError;
      if (!known) o.log?.(`ui: ${req.url}: ${(err as Error).message}`);
      return send(res, known ? 404 : 500, 'application/json', JSON.stringify({ error: (err as Error).message }));
    }
  };
  const server: Server = createServer((req, res) => void handle(req, res));
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${o.port} on ${host} is in use; choose another with --port`) : err),
    );
    server.listen(o.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  return {
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
