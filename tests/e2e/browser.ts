/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Pages in a real browser: Debian's headless Chromium driven by playwright-core. What a page
// check reads: every console message and page error, every request (a report must make none but
// its own file), and the panels as the page marks them once drawn (data-drawn, data-kind,
// data-points, data-bands on each .panel).
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.GROKSTREAM_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium; .ci/run does) or set GROKSTREAM_CHROMIUM`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'], timeout: 60_000 });
}

export interface PanelState {
  id: string;
  kind: string | undefined;
  drawn: boolean;
  points: number;
  bands: number;
  /** What an empty panel says instead. */
  empty: string | undefined;
}

export interface PageWatch {
  page: Page;
  /** Console errors and warnings, and uncaught page errors. */
  problems: string[];
  requests: string[];
}

export async function openPage(browser: Browser, url: string): Promise<PageWatch> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const watch: PageWatch = { page, problems: [], requests: [] };
  page.on('console', (m) => {
    // With the resource's address: "Failed to load resource: ... 404" says nothing of which.
    const where = m.location().url;
    if (m.type() === 'error' || m.type() === 'warning') watch.problems.push(`${m.type()}: ${m.text()}${where ? ` (${where})` : ''}`);
  });
  page.on('pageerror', (e) => watch.problems.push(`page error: ${e.message}`));
  page.on('request', (r) => watch.requests.push(r.url()));
  await page.goto(url, { timeout: 60_000 });
  return watch;
}

/** Waits until the page has drawn every panel (at least `renders` times, for the live page). */
export async function waitForPanels(page: Page, renders = 1, timeoutMs = 60_000): Promise<PanelState[]> {
  await page.waitForFunction(
    (n) => {
      const root = document.getElementById('report');
      const panels = [...document.querySelectorAll<HTMLElement>('.panel')];
      return Number(root?.dataset.rendered ?? 0) >= n && panels.length > 0 && panels.every((p) => p.dataset.drawn === 'true');
    },
    renders,
    { timeout: timeoutMs },
  );
  return panelStates(page);
}

export function panelStates(page: Page): Promise<PanelState[]> {
  return page.$$eval('.panel', (panels) =>
    panels.map((p) => {
      const d = (p as HTMLElement).dataset;
      return {
        id: p.id,
        kind: d.kind,
        drawn: d.drawn === 'true',
        points: Number(d.points ?? 0),
        bands: Number(d.bands ?? 0),
        empty: p.querySelector('.empty')?.textContent ?? undefined,
      };
    }),
  );
}

export async function screenshot(page: Page, path: string, fullPage = false): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage });
}
