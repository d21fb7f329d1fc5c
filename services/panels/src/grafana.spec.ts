// The committed dashboards are what the catalogue builds, and they are sound Grafana dashboards:
// Grafana's own model through the SDK's types (grafana.ts compiles against them), and here a
// structural check of the emitted JSON.
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DASHBOARDS, VARIABLES } from './catalogue.ts';
import { DATASOURCE, dashboardFiles } from './grafana.ts';
import { referencedVariables } from './macros.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const DIR = join(ROOT, 'dashboards');

interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { type: string; uid: string };
  targets: { refId: string; datasource: { uid: string }; rawSql: string; editorType: string; format: number }[];
  transformations?: { id: string; options: { fields?: string[] } }[];
  options?: { xField?: string };
}
interface GrafanaDashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: GrafanaPanel[];
  templating: { list: { name: string; type: string; query?: unknown; hide?: number; datasource?: { uid: string } }[] };
  annotations?: { list: { name: string; datasource: { uid: string }; target: { rawSql: string } }[] };
}

const committed = (file: string) => JSON.parse(readFileSync(join(DIR, file), 'utf8')) as GrafanaDashboard;

describe('dashboards/', () => {
  it('holds exactly what the catalogue builds (run `pnpm dashboards:build` after changing it)', () => {
    const files = dashboardFiles(DASHBOARDS);
    expect(readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()).toEqual(files.map((f) => f.file).sort());
    for (const { file, json } of files) {
      expect(readFileSync(join(DIR, file), 'utf8'), `${file} is stale: run pnpm dashboards:build`).toBe(json);
    }
  });

  it('uses the data source that provisioning creates', () => {
    const provisioned = parse(readFileSync(join(ROOT, 'deploy/grafana/provisioning/datasources/grokstream.yaml'), 'utf8')) as {
      datasources: { uid: string; type: string }[];
    };
    expect(provisioned.datasources.map((d) => ({ uid: d.uid, type: d.type }))).toContainEqual(DATASOURCE);
  });

  for (const d of DASHBOARDS) {
    describe(d.uid, () => {
      const g = committed(`${d.uid}.json`);
      const defined = new Set(g.templating.list.map((v) => v.name));

      it('is a dashboard model with a uid, a title and a schema version', () => {
        expect(g.uid).toBe(d.uid);
        expect(g.title).toMatch(/^grokstream \/ /);
        expect(g.schemaVersion).toBeGreaterThanOrEqual(36);
      });

      it('lays out its panels on the 24-column grid without overlaps, with unique ids', () => {
        expect(new Set(g.panels.map((p) => p.id)).size).toBe(g.panels.length);
        const cells = new Set<string>();
        for (const p of g.panels) {
          expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
          for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
            for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
              expect(cells.has(`${x},${y}`), `${p.title} overlaps`).toBe(false);
              cells.add(`${x},${y}`);
            }
        }
      });

      it('queries the ClickHouse data source with raw SQL, and defines every variable the SQL uses', () => {
        expect(g.panels).toHaveLength(d.panels.length);
        const sqls = [...g.panels.flatMap((p) => p.targets.map((t) => t.rawSql)), ...(g.annotations?.list ?? []).map((a) => a.target.rawSql)];
        for (const p of g.panels) {
          expect(['trend', 'timeseries', 'table', 'xychart', 'state-timeline', 'barchart']).toContain(p.type);
          expect(p.datasource.uid).toBe(DATASOURCE.uid);
          expect(p.targets).toHaveLength(1);
          expect(p.targets[0]).toMatchObject({ refId: 'A', editorType: 'sql', datasource: { uid: DATASOURCE.uid } });
        }
        for (const a of (g.annotations?.list ?? [])) expect(a.datasource.uid).toBe(DATASOURCE.uid);
        for (const v of g.templating.list) if (v.type === 'query') expect(v.datasource?.uid).toBe(DATASOURCE.uid);
        const used = new Set([...sqls, ...g.templating.list.map((v) => String(v.query ?? ''))].flatMap(referencedVariables));
        for (const name of used) expect(defined, `$${name} is used but not defined`).toContain(name);
        // And variables' own queries only use variables defined before them (Grafana resolves in order).
        g.templating.list.forEach((v, i) => {
          for (const name of referencedVariables(String(v.query ?? ''))) {
            expect(g.templating.list.slice(0, i).map((x) => x.name), `${v.name} uses $${name} before it is defined`).toContain(name);
          }
        });
        expect(g.templating.list.find((v) => v.name === 'database')).toMatchObject({ type: 'constant', query: 'grokstream', hide: 2 });
      });

      it('puts steps on the x axis of step panels and splits series by the catalogue’s fields', () => {
        for (const [i, p] of d.panels.entries()) {
          const gp = g.panels[i]!;
          if (p.visualization === 'trend') expect(gp.options?.xField).toBe('step');
          if (p.seriesBy && p.visualization !== 'timeseries') {
            expect(gp.transformations).toContainEqual(expect.objectContaining({ id: 'partitionByValues', options: expect.objectContaining({ fields: p.seriesBy }) }));
          }
        }
      });
    });
  }

  it('every panel variable is in the catalogue’s list', () => {
    for (const d of DASHBOARDS) for (const v of d.variables) expect(VARIABLES[v]).toBeDefined();
  });
});
