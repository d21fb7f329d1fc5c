// Writes the catalogue's Grafana dashboards to dashboards/<uid>.json (pnpm dashboards:build)
// and removes dashboards that are no longer in the catalogue.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DASHBOARDS, dashboardFiles } from '../src/index.ts';

const dir = resolve(import.meta.dirname, '../../../dashboards');
mkdirSync(dir, { recursive: true });
const files = dashboardFiles(DASHBOARDS);
for (const { file, json } of files) writeFileSync(join(dir, file), json);
const kept = new Set(files.map((f) => f.file));
for (const f of readdirSync(dir)) if (f.endsWith('.json') && !kept.has(f)) rmSync(join(dir, f));
console.log(`wrote ${files.length} dashboards to ${dir}: ${[...kept].join(', ')}`);
