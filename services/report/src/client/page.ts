/// <reference lib="dom" />
// The page's script, in the browser: draws a ReportModel with ECharts (loaded before it, as the
// global `echarts`). In a report file the model is inside the page; on the live page
// (grokstream ui) it comes from /api/report and is fetched again every few seconds, and a side
// list of runs and sweeps picks what to show. esbuild bundles this file into the page (page.ts).
import type { ReportModel, PanelModel, RunInfo } from '../report-model.ts';
import type { Cell } from '../charts.ts';

interface EChartsInstance {
  setOption(option: unknown, notMerge?: boolean): void;
  resize(): void;
  on(event: string, handler: () => void): void;
  dispose(): void;
}
declare const echarts: { init(el: HTMLElement, theme?: unknown, opts?: { renderer?: string }): EChartsInstance };

interface PageConfig {
  mode: 'file' | 'live';
  refreshMs?: number;
}

const charts = new Map<string, EChartsInstance>();

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

const fmt = (v: unknown): string => {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'number') return Number.isInteger(v) || !Number.isFinite(v) ? String(v) : String(Number(v.toPrecision(4)));
  return String(v);
};

function runTable(runs: RunInfo[]): HTMLElement {
  const cols = ['run_id', 'task', 'memorized_step', 'grokked_step', 'grok_delay', 'memorization_at', 'grokking_at', 'converged_at', 'last_phase', 'stop_policy', 'stop_reason', 'ended', 'last_step', 'final_train_acc', 'final_test_acc'];
  const head = el('tr', {}, ...cols.map((c) => el('th', {}, c.replace(/_/g, ' '))));
  const rows = runs.map((r) => el('tr', {}, ...cols.map((c) => el('td', {}, fmt(c === 'run_id' ? r.run_id : c === 'task' ? r.task : r.summary[c])))));
  return el('table', { class: 'runs' }, el('thead', {}, head), el('tbody', {}, ...rows));
}

function configs(runs: RunInfo[]): HTMLElement {
  const box = el('div', { class: 'configs' });
  for (const r of runs) {
    const details = el('details', {}, el('summary', {}, `config of ${r.run_id}`), el('pre', {}, JSON.stringify(r.config, null, 2)));
    box.append(details);
  }
  return box;
}

function tableOf(columns: string[], rows: Cell[][]): HTMLElement {
  return el(
    'div',
    { class: 'table-wrap' },
    el('table', {}, el('thead', {}, el('tr', {}, ...columns.map((c) => el('th', {}, c)))), el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, fmt(c))))))),
  );
}

function drawPanel(card: HTMLElement, key: string, p: PanelModel): void {
  const body = card.querySelector<HTMLElement>('.body')!;
  card.dataset.points = String(p.view.points);
  card.dataset.kind = p.view.kind;
  if (p.view.kind === 'chart') {
    card.dataset.bands = String(p.view.bands);
    let chart = charts.get(key);
    if (!chart) {
      body.replaceChildren();
      body.classList.add('chart');
      chart = echarts.init(body, undefined, { renderer: 'canvas' });
      charts.set(key, chart);
      chart.on('finished', () => {
        card.dataset.drawn = 'true';
      });
    }
    chart.setOption(p.view.option, true);
    return;
  }
  charts.get(key)?.dispose();
  charts.delete(key);
  body.classList.remove('chart');
  body.replaceChildren(p.view.kind === 'table' ? tableOf(p.view.columns, p.view.rows) : el('p', { class: 'empty' }, p.view.reason));
  card.dataset.drawn = 'true';
}

function render(model: ReportModel, root: HTMLElement): void {
  document.title = `grokstream: ${model.title}`;
  const sectionsKey = model.sections.map((s) => `${s.id}:${s.panels.map((p) => p.id).join(',')}`).join('|');
  if (root.dataset.layout !== sectionsKey) {
    for (const c of charts.values()) c.dispose();
    charts.clear();
    root.replaceChildren();
    root.dataset.layout = sectionsKey;
    root.append(el('header', {}, el('h1', {}, model.title), el('p', { class: 'meta' })), el('section', { id: 'runs' }), el('nav'));
    for (const s of model.sections) {
      const section = el('section', { id: s.id, class: 'dashboard' }, el('h2', {}, s.title), el('p', { class: 'description' }, s.description));
      const grid = el('div', { class: 'grid' });
      for (const p of s.panels) {
        const card = el('article', { class: 'panel', id: `${s.id}--${p.id}`, 'data-panel': p.id, style: `grid-column: span ${p.width >= 24 ? 2 : 1}` });
        card.append(el('h3', {}, p.title), el('p', { class: 'description' }, p.description), el('div', { class: 'body' }), el('details', { class: 'sql' }, el('summary', {}, 'SQL'), el('pre', {})));
        grid.append(card);
      }
      section.append(grid);
      root.append(section);
    }
    root.querySelector('nav')!.append(...model.sections.map((s) => el('a', { href: `#${s.id}` }, s.title)));
  }
  root.querySelector('header .meta')!.textContent =
    `database ${model.database} · generated ${model.generatedAt.replace('T', ' ').slice(0, 19)} UTC · queries ${Math.round(model.queryMs)} ms`;
  root.querySelector('header h1')!.textContent = model.title;
  root.querySelector('#runs')!.replaceChildren(el('h2', {}, model.runs.length === 1 ? 'Run' : 'Runs'), runTable(model.runs), configs(model.runs));
  for (const s of model.sections) {
    for (const p of s.panels) {
      const card = document.getElementById(`${s.id}--${p.id}`)!;
      card.querySelector('h3')!.textContent = p.title;
      card.querySelector('.sql pre')!.textContent = p.sql;
      drawPanel(card, `${s.id}--${p.id}`, p);
    }
  }
  root.dataset.rendered = String(Number(root.dataset.rendered ?? '0') + 1);
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

interface RunList {
  runs: Array<Record<string, unknown> & { run_id: string }>;
  sweeps: Array<{ sweep: string; runs: number }>;
  /** Set when nothing is stored yet: why, in words. */
  waiting?: string;
}

function sidebar(list: RunList, selected: URLSearchParams): HTMLElement {
  const chosen = new Set(selected.getAll('run'));
  const link = (params: string, text: string, active: boolean, title = '') => el('a', { href: `?${params}`, class: active ? 'active' : '', title }, text);
  const runs = list.runs.map((r) =>
    el(
      'li',
      {},
      link(`run=${encodeURIComponent(r.run_id)}`, r.run_id, chosen.has(r.run_id)),
      el('span', { class: 'phase' }, `${fmt(r.last_phase)} · step ${fmt(r.last_step)}${r.ended ? ` · ${fmt(r.ended)}` : ' · running'}`),
    ),
  );
  const sweeps = list.sweeps.map((s) => el('li', {}, link(`sweep=${encodeURIComponent(s.sweep)}`, `${s.sweep} (${s.runs})`, selected.get('sweep') === s.sweep)));
  return el('div', {}, el('h2', {}, 'Runs'), el('ul', {}, ...runs), el('h2', {}, 'Sweeps'), sweeps.length ? el('ul', {}, ...sweeps) : el('p', { class: 'empty' }, 'none yet'));
}

async function live(root: HTMLElement, side: HTMLElement, status: HTMLElement, refreshMs: number): Promise<void> {
  const params = new URLSearchParams(location.search);
  const tick = async () => {
    try {
      const list = await getJson<RunList>('api/runs');
      side.replaceChildren(sidebar(list, params));
      if (list.runs.length === 0 && !params.has('run') && !params.has('sweep')) {
        // Nothing stored yet (grokstream run --ui opens the page before the run's first event lands):
        // wait for it rather than ask for a report the server can only refuse.
        status.textContent = `live · waiting for the first run: ${list.waiting ?? 'none stored yet'} · every ${refreshMs / 1000} s`;
        status.className = 'status';
        return;
      }
      render(await getJson<ReportModel>(`api/report?${params.toString()}`), root);
      status.textContent = `live · updated ${new Date().toLocaleTimeString()} · every ${refreshMs / 1000} s`;
      status.className = 'status';
    } catch (err) {
      // Shown on the page; the next refresh tries again (a run may not have any data yet).
      status.textContent = `live · ${(err as Error).message} · retrying every ${refreshMs / 1000} s`;
      status.className = 'status problem';
    }
  };
  // The next refresh is asked for once this one is drawn: a slow store never piles up requests.
  for (;;) {
    await tick();
    await new Promise((r) => setTimeout(r, refreshMs));
  }
}

function main(): void {
  const config = JSON.parse(document.getElementById('grokstream-config')!.textContent!) as PageConfig;
  const root = document.getElementById('report')!;
  window.addEventListener('resize', () => charts.forEach((c) => c.resize()));
  if (config.mode === 'file') {
    render(JSON.parse(document.getElementById('grokstream-model')!.textContent!) as ReportModel, root);
    return;
  }
  void live(root, document.getElementById('sidebar')!, document.getElementById('status')!, config.refreshMs ?? 5000);
}

main();
