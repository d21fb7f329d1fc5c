// What the commands that run the embedded pipeline or read a store share: the detector's
// options from its YAML, the store a command should use (--clickhouse wins over the settings),
// opening it with errors that say what to do, and the --port flag.
import { ChdbBusyError, type Store } from '@grokstream/store';
import { ConfigurationError, RuntimeFailure, UsageError, describeStore, openReadableStore, openStore, type Settings, type StoreSettings } from '@grokstream/shell';
import { DetectorConfigError, detectorOptions, loadDetectorConfig, type RunDetectorOptions } from '@grokstream/detector';

/** The detector's options from a YAML file (none: the defaults); a bad file is a configuration error (exit 2). */
export function loadDetector(file: string | undefined): RunDetectorOptions {
  try {
    return detectorOptions(loadDetectorConfig(file));
  } catch (err) {
    if (err instanceof DetectorConfigError) throw err; // a ConfigurationError: exit 2
    // detectorOptions() rejects policy options it cannot build with plain errors naming the option.
    if ((err as Error).message.includes('option')) throw new ConfigurationError((err as Error).message);
    throw err;
  }
}

/** --clickhouse URL (the server, with the user and password of the settings) or the settings' store. */
export function storeFlagSettings(settings: Pick<Settings, 'store'>, clickhouse: string | undefined): StoreSettings {
  if (clickhouse === undefined) return settings.store;
  let url: URL;
  try {
    url = new URL(clickhouse);
  } catch {
    throw new UsageError(`--clickhouse must be the server's http(s) URL, e.g. http://127.0.0.1:18123, got "${clickhouse}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--clickhouse must be an http(s) URL such as http://127.0.0.1:18123, got "${clickhouse}"`);
  const current = settings.store.kind === 'clickhouse' ? settings.store : undefined;
  return { kind: 'clickhouse', url: `${url.origin}${url.pathname}`.replace(/\/$/, ''), username: current?.username ?? 'default', ...(current?.password ? { password: current.password } : {}) };
}

/** Opens and migrates the store; the embedded store being held by another process, or a server that does not answer, is a RuntimeFailure saying so. */
export async function openCommandStore(s: StoreSettings, database: string, o: { readonly?: boolean; log?: (line: string) => void } = {}): Promise<Store> {
  const hint = s.kind === 'clickhouse' ? ' (is the server running? `pnpm stack:up` starts the local one; without GROKSTREAM_CLICKHOUSE_URL the embedded store is used)' : '';
  if (o.readonly) {
    // Read-only, at the schema this grokstream reads (an older grokstream's embedded database is migrated first).
    try {
      return await openReadableStore({ store: s, database }, o.log ? { log: o.log } : {});
    } catch (err) {
      if (err instanceof ChdbBusyError) throw new RuntimeFailure(err.message);
      throw new RuntimeFailure(`cannot use ${describeStore(s)}: ${(err as Error).message}${/older grokstream/.test((err as Error).message) ? '' : hint}`);
    }
  }
  let store: Store;
  try {
    store = openStore({ store: s, database }, o);
  } catch (err) {
    if (err instanceof ChdbBusyError) throw new RuntimeFailure(err.message);
    throw err;
  }
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => {});
    throw new RuntimeFailure(`cannot use ${describeStore(s)}: ${(err as Error).message}${hint}`);
  }
  return store;
}

export function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text) ? Number(text) : NaN; // Number('') is 0: an empty --port= must not pick a random port
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be a port number (0 to 65535; 0 picks a free one), got ${text}`);
  return n;
}
