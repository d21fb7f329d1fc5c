// The report page: self-contained (nothing loaded from the network), its model readable back out
// of the page exactly, and no text in the model able to end its script element early.
import { describe, expect, it } from 'vitest';
import { livePageHtml, reportHtml, scriptJson } from './page.ts';
import type { ReportModel } from './report-model.ts';

interface Script {
  attrs: string;
  body: string;
}

/**
 * The page's <script> elements as a browser's tokenizer splits them: a script's text ends at the
 * first `</script` followed by whitespace, `/` or `>`, whatever it is inside (a string, JSON).
 * (`<!--` inside a script would change that; the specs check there is none.)
 */
function scripts(html: string): { scripts: Script[]; outside: string } {
  const found: Script[] = [];
  let outside = '';
  let at = 0;
  const open = /<script\b([^>]*)>/gi;
  for (let m = open.exec(html); m; m = open.exec(html)) {
    outside += html.slice(at, m.index);
    const rest = html.slice(open.lastIndex);
    const close = /<\/script[\s/>]/i.exec(rest);
    if (!close) throw new Error('unclosed script element');
    found.push({ attrs: m[1]!.trim(), body: rest.slice(0, close.index) });
    at = open.lastIndex + close.index + rest.slice(close.index).indexOf('>') + 1;
    open.lastIndex = at;
  }
  return { scripts: found, outside: outside + html.slice(at) };
}

const EVIL = '</script><script>alert(1)</script>';

function model(runId = 'grok-a'): ReportModel {
  return {
    title: runId,
    database: 'grokstream',
    generatedAt: '2026-01-02T03:04:05.000Z',
    runs: [
      {
        run_id: runId,
        sweep: null,
        started: '2026-01-02 03:00:00',
        task: 'modular',
        config: { run: { steps: 10, tags: { note: '<!-- <script> & "quotes" \u2028 é' } } },
        summary: { run_id: runId, last_step: 9, final_test_acc: 0.5, stop_reason: null },
      },
    ],
    sections: [
      {
        id: 'grokstream-run-overview',
        title: 'Run overview',
        description: 'Losses <b>and</b> accuracies',
        panels: [
          {
            id: 'loss',
            title: 'Loss by step',
            description: 'Train and test loss',
            visualization: 'trend',
            sql: "SELECT 1 WHERE run_id IN ('</script>')",
            view: {
              kind: 'chart',
              points: 2,
              bands: 0,
              option: { series: [{ name: runId, type: 'line', data: [[0, 1], [1, 0.5]] }], xAxis: { type: 'value', name: 'step' } },
            },
            width: 12,
          },
          {
            id: 'stops',
            title: 'Stops',
            description: '',
            visualization: 'table',
            sql: 'SELECT 1',
            view: { kind: 'table', columns: ['run_id', 'step'], rows: [[runId, '9007199254740993']], points: 1 },
            width: 12,
          },
          { id: 'curvature', title: 'Curvature', description: '', visualization: 'trend', sql: 'SELECT 1', view: { kind: 'empty', reason: 'no Hessian probes', points: 0 }, width: 24 },
        ],
      },
    ],
    queryMs: 12.5,
  };
}

const byId = (list: Script[], id: string) => list.find((s) => s.attrs.includes(`id="${id}"`));
const jsonOf = (list: Script[], id: string): unknown => JSON.parse(byId(list, id)!.body);

/** Addresses a page could load from: http(s) and protocol-relative URLs in attributes. */
const EXTERNAL_ATTR = /\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?\s*(?:https?:)?\/\//i;
/** Absolute URLs in the page's scripts that are not requests: ECharts' XML namespaces and licence notes. */
const NOT_FETCHED = [
  'http://www.w3.org/2000/svg',
  'http://www.w3.org/1999/xlink',
  'http://www.w3.org/2000/xmlns/',
  'http://www.w3.org/XML/1998/namespace',
  'http://www.apache.org/licenses/LICENSE-2.0',
  'https://github.com/ecomfe/zrender/blob/master/LICENSE',
];

describe('reportHtml', () => {
  const html = reportHtml(model());
  const parsed = scripts(html);

  it('has exactly the expected scripts: the config, the model, ECharts and the page script, all inline', () => {
    expect(parsed.scripts.map((s) => s.attrs)).toEqual(['type="application/json" id="grokstream-config"', 'type="application/json" id="grokstream-model"', '', '']);
    expect(parsed.scripts.every((s) => !/\bsrc\s*=/.test(s.attrs))).toBe(true);
    // ECharts' own build, then the bundled page script (an IIFE that starts by reading the config).
    expect(parsed.scripts[2]!.body).toContain('echarts');
    expect(parsed.scripts[2]!.body.length).toBeGreaterThan(500_000);
    expect(parsed.scripts[3]!.body.trim()).toMatch(/^(?:"use strict";\s*)?\(\(\) => \{[\s\S]*\}\)\(\);$/);
    expect(parsed.scripts[3]!.body).toContain('grokstream-model');
    expect(parsed.outside).not.toMatch(/<script/i);
    for (const s of parsed.scripts) expect(s.body).not.toContain('<!--');
  });

  it('loads nothing from elsewhere: no external src/href, a CSP that allows no other origin', () => {
    expect(parsed.outside).not.toMatch(/\b(?:src|href)\s*=/i);
    expect(html).not.toMatch(EXTERNAL_ATTR);
    expect(parsed.outside).not.toMatch(/<link\b|<img\b|<iframe\b|<object\b|<embed\b|@import|url\(/i);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
    expect(csp).toBeDefined();
    expect(csp!.split('; ')).toEqual(["default-src 'none'", "script-src 'unsafe-inline'", "style-src 'unsafe-inline'", 'img-src data:', "connect-src 'self'"]);
    // Every absolute URL anywhere in the page is a namespace or a licence, not a request.
    const urls = new Set(html.match(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"'`)<>]*/gi) ?? []);
    expect([...urls].filter((u) => !NOT_FETCHED.includes(u))).toEqual([]);
    // The page script asks only its own server, by relative paths.
    const client = parsed.scripts[3]!.body;
    expect(client).not.toMatch(/https?:\/\//);
    expect(client).toContain('getJson("api/runs")');
    expect(client).toContain('`api/report?');
  });

  it('carries the model as JSON that parses back to the model, and the file-mode config', () => {
    expect(jsonOf(parsed.scripts, 'grokstream-model')).toEqual(model());
    expect(jsonOf(parsed.scripts, 'grokstream-config')).toEqual({ mode: 'file' });
    expect(html).toContain('<title>grokstream: grok-a</title>');
  });

  it('a run id with </script><script> cannot end the script element early or add one', () => {
    const evil = reportHtml(model(EVIL));
    const p = scripts(evil);
    expect(p.scripts).toHaveLength(4);
    expect(p.scripts.map((s) => s.attrs)).toEqual(parsed.scripts.map((s) => s.attrs));
    // Outside the scripts, the evil text is only in the (escaped) title.
    expect(p.outside).not.toMatch(/<script/i);
    expect(p.outside.split('alert(1)')).toHaveLength(2);
    expect(evil.match(/<script\b/gi)).toHaveLength(4);
    // The JSON still reads back exactly, the evil text included.
    const back = jsonOf(p.scripts, 'grokstream-model') as ReportModel;
    expect(back).toEqual(model(EVIL));
    expect(back.runs[0]!.run_id).toBe(EVIL);
    // The title is HTML text: escaped.
    expect(evil).toContain('<title>grokstream: &#60;/script&#62;&#60;script&#62;alert(1)&#60;/script&#62;</title>');
  });

  it('scriptJson: no "<" at all, big integers as text', () => {
    const text = scriptJson({ a: '</SCRIPT><!-- <b>', n: 12345678901234567890n, list: [1n, null] });
    expect(text).not.toContain('<');
    expect(JSON.parse(text)).toEqual({ a: '</SCRIPT><!-- <b>', n: '12345678901234567890', list: ['1', null] });
  });
});

describe('livePageHtml', () => {
  it('has no model, and a live config with its refresh', () => {
    const html = livePageHtml(2500);
    const p = scripts(html);
    expect(p.scripts.map((s) => s.attrs)).toEqual(['type="application/json" id="grokstream-config"', '', '']);
    expect(byId(p.scripts, 'grokstream-model')).toBeUndefined();
    expect(jsonOf(p.scripts, 'grokstream-config')).toEqual({ mode: 'live', refreshMs: 2500 });
    expect(html).toContain('<title>grokstream ui</title>');
    expect(p.outside).not.toMatch(/\b(?:src|href)\s*=/i);
    expect(jsonOf(scripts(livePageHtml()).scripts, 'grokstream-config')).toEqual({ mode: 'live', refreshMs: 5000 });
  });
});
