// grokstream report (a self-contained HTML file of runs or a sweep) and grokstream ui (the same
// page live over HTTP), both from the configured store: the embedded chdb by default, or the
// ClickHouse server (--clickhouse or GROKSTREAM_CLICKHOUSE_URL).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ReportSelectionError, startUi, writeReport, type UiServer } from '@grokstream/report';
import { RuntimeFailure, UsageError, describeStore, serve, type Service } from '@grokstream/shell';
import type { Store } from '@grokstream/store';
import type { CommandContext } from './context.ts';
import { openCommandStore, parsePort, storeFlagSettings } from './embedded-parts.ts';

/** Reads through the store; a missing database or table means nothing was stored there yet. */
function reader(store: Store, where: string): (sql: string) => Promise<Record<string, unknown>[]> {
  return async (sql) => {
    try {
      return await store.query(sql);
    } catch (err) {
      const message = (err as Error).message;
      if (/UNKNOWN_TABLE|UNKNOWN_DATABASE|doesn't exist/i.test(message)) {
        throw new ReportSelectionError(`nothing stored in ${where} yet (database ${store.database}): train a run with grokstream run, or point at another store`);
      }
      throw err;
    }
  };
}

const fileSafe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');

export async function report(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { sweep: { type: 'string' }, out: { type: 'string', short: 'o' }, clickhouse: { type: 'string' }, points: { type: 'string' } },
  });
  if (values.sweep !== undefined && positionals.length > 0) throw new UsageError('report takes run ids or --sweep ID, not both');
  const points = values.points === undefined ? undefined : Number(values.points);
  if (points !== undefined && (!Number.isInteger(points) || points < 10)) throw new UsageError(`--points must be a whole number of at least 10, got ${values.points}`);
  const settings = ctx.settings();
  const storeSettings = storeFlagSettings(settings, values.clickhouse);
  const where = describeStore(storeSettings);
  const store = await openCommandStore(storeSettings, settings.database, { readonly: true, log: (l) => ctx.log.info(l) });
  try {
    const name = values.sweep !== undefined ? `sweep-${values.sweep}` : positionals.length === 1 ? positionals[0]! : positionals.length ? `${positionals.length}-runs` : 'latest';
    const out = values.out ?? join(settings.dataDir, 'reports', `${fileSafe(name)}.html`);
    const t0 = performance.now();
    const written = await writeReport(
      reader(store, where),
      { database: settings.database, ...(values.sweep !== undefined ? { sweep: values.sweep } : {}), ...(positionals.length ? { runs: positionals } : {}), ...(points ? { points } : {}) },
      out,
    );
    const panels = written.model.sections.reduce((n, s) => n + s.panels.length, 0);
    const empty = written.model.sections.flatMap((s) => s.panels.filter((p) => p.view.kind === 'empty').map((p) => p.id));
    console.log(
      `report of ${written.model.title}: ${written.path} (${(written.bytes / 1e6).toFixed(1)} MB, ${panels} panels` +
        `${empty.length ? `, ${empty.length} without data: ${empty.join(', ')}` : ''}; ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    return 0;
  } catch (err) {
    if (err instanceof ReportSelectionError) throw new RuntimeFailure(err.message);
    throw err;
  } finally {
    await store.close();
  }
}

export async function ui(args: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { port: { type: 'string' }, host: { type: 'string' }, clickhouse: { type: 'string' }, refresh: { type: 'string' } },
  });
  const port = parsePort(values.port) ?? 8737;
  const refresh = values.refresh === undefined ? 5 : Number(values.refresh);
  if (!Number.isFinite(refresh) || refresh < 1) throw new UsageError(`--refresh must be at least 1 (seconds), got ${values.refresh}`);
  const settings = ctx.settings();
  const storeSettings = storeFlagSettings(settings, values.clickhouse);
  const where = describeStore(storeSettings);
  const store = await openCommandStore(storeSettings, settings.database, { readonly: true, log: (l) => ctx.log.info(l) });
  let server: UiServer | undefined;
  let requests = 0;
  const query = reader(store, where);
  const service: Service = {
    start: async () => {
      server = await startUi({
        query: (sql) => {
          requests++;
          return query(sql);
        },
        database: settings.database,
        host: values.host,
        port,
        refreshMs: refresh * 1000,
        log: (l) => ctx.log.warn(l),
      });
      ctx.log.info(`ui: ${server.url} (from ${where}, database ${settings.database}); Ctrl-C stops it`);
    },
    stop: async () => {
      await server?.close();
      await store.close();
    },
    status: () => `ui: ${server?.url ?? 'starting'}, ${requests} queries`,
  };
  try {
    return await serve('ui', service, { log: ctx.log, interruption: ctx.interruption, statusEveryMs: 60_000 });
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}
