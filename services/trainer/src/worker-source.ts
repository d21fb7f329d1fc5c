// The trainer runs from TypeScript source (through tsx), and so do its worker threads: a worker
// is started from a small data: URL module that registers tsx in the worker, then imports the
// worker's own .ts entry. (tsx's ESM API is resolved through its CommonJS entry, whose .mjs twin
// sits beside it.)
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** The URL to give `new Worker()` for the TypeScript module at `entry` (a file: URL). */
export function tsWorkerSource(entry: URL): URL {
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  const code = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(entry.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}
