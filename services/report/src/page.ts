// The HTML page: ECharts and the page script (client/page.ts, bundled by esbuild) inline, so a
// report file opens with no network at all, and the same page, without a model, is the live
// page of `grokstream ui`.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import type { ReportModel } from './report-model.ts';

const require = createRequire(import.meta.url);
let assets: { echarts: string; script: string } | undefined;

/** ECharts' own build and the page script, read and bundled once per process. */
function pageAssets(): { echarts: string; script: string } {
  if (assets) return assets;
  const echarts = readFileSync(require.resolve('echarts/dist/echarts.min.js'), 'utf8');
  const built = buildSync({
    entryPoints: [fileURLToPath(new URL('./client/page.ts', import.meta.url))],
    bundle: true,
    format: 'iife',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
  });
  assets = { echarts, script: built.outputFiles[0]!.text };
  return assets;
}

/** JSON safe inside a <script> element: no `</script>`, no `<!--`; big integers as text. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)).replace(/</g, '\\u003c');
}

/** Inline <script> text: a `</script` inside it would end the element early. */
const inline = (code: string) => code.replace(/<\/script/gi, '<\\/script');

const STYLE = `
:root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; background: #fafafa; }
body { margin: 0; display: flex; }
#sidebar { width: 280px; flex: none; padding: 12px 16px; border-right: 1px solid #ddd; background: #fff; height: 100vh; overflow: auto; position: sticky; top: 0; box-sizing: border-box; }
#sidebar:empty { display: none; }
#sidebar ul { list-style: none; padding: 0; margin: 0 0 16px; }
#sidebar li { margin: 6px 0; font-size: 13px; }
#sidebar a { color: #1f5fbf; text-decoration: none; word-break: break-all; }
#sidebar a.active { font-weight: 700; }
#sidebar .phase { display: block; color: #777; font-size: 11px; }
main { flex: 1; min-width: 0; padding: 16px 24px 48px; }
h1 { font-size: 20px; margin: 0 0 4px; word-break: break-all; }
h2 { font-size: 16px; margin: 24px 0 6px; }
h3 { font-size: 14px; margin: 0 0 2px; }
.meta, .description { color: #666; font-size: 12px; margin: 0 0 8px; }
.status { font-size: 12px; color: #2b7a2b; margin: 0 0 8px; }
.status.problem { color: #b35900; }
nav { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; font-size: 13px; }
nav a { color: #1f5fbf; }
.grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 14px; }
@media (max-width: 1100px) { .grid { grid-template-columns: minmax(0, 1fr); } .panel { grid-column: span 1 !important; } }
.panel { background: #fff; border: 1px solid #e2e2e2; border-radius: 6px; padding: 10px 12px; min-width: 0; }
.body.chart { height: 320px; }
.empty { color: #8a6d3b; font-size: 13px; padding: 24px 0; }
table { border-collapse: collapse; font-size: 12px; width: 100%; }
th, td { border-bottom: 1px solid #eee; padding: 3px 6px; text-align: left; white-space: nowrap; }
th { background: #f3f3f3; }
.table-wrap { overflow: auto; max-height: 320px; }
table.runs { margin-bottom: 8px; }
details.sql summary, .configs summary { cursor: pointer; color: #666; font-size: 12px; }
pre { font-size: 11px; background: #f6f6f6; padding: 8px; overflow: auto; max-height: 300px; white-space: pre-wrap; word-break: break-all; }
`;

function page(title: string, config: unknown, model: ReportModel | undefined): string {
  const { echarts, script } = pageAssets();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'">
<title>${title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`)}</title>
<style>${STYLE}</style>
</head>
<body>
<aside id="sidebar"></aside>
<main><p id="status"></p><div id="report"></div></main>
<script type="application/json" id="grokstream-config">${scriptJson(config)}</script>
${model ? `<script type="application/json" id="grokstream-model">${scriptJson(model)}</script>` : ''}
<script>${inline(echarts)}</script>
<script>${inline(script)}</script>
</body>
</html>
`;
}

/** A self-contained report: everything it needs is inside it. */
export function reportHtml(model: ReportModel): string {
  return page(`grokstream: ${model.title}`, { mode: 'file' }, model);
}

/** The live page: the model comes from the server's /api/report, again every `refreshMs`. */
export function livePageHtml(refreshMs = 5000): string {
  return page('grokstream ui', { mode: 'live', refreshMs }, undefined);
}
