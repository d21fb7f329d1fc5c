// The README's first command, as a newcomer runs it, and what it leaves: a report whose charts
// show memorization, then grokking, with the detector's phases marked, checked in a real browser
// (Debian's headless Chromium). Then the same data live in `grokstream ui`, and a run watched
// live with `grokstream run --ui` while it trains. Screenshots go to bench-results/.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, openPage, panelStates, screenshot, waitForPanels, type PanelState } from './browser.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SHOTS = join(ROOT, 'bench-results');

/** The shell command in the README's code block after `<!-- readme:NAME -->`. */
export function readmeCommand(name: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = new RegExp(`<!-- readme:${name} -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!m) throw new Error(`README.md has no <!-- readme:${name} --> block followed by a sh code block`);
  return m[1]!.trim();
}

/** The environment of a newcomer: no stack configured, data in its own directory. */
function newcomerEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GROKSTREAM_DATA_DIR: dataDir, GROKSTREAM_LOG_LEVEL: 'info' };
  for (const k of Object.keys(env)) if (k.startsWith('GROKSTREAM_KAFKA') || k.startsWith('GROKSTREAM_CLICKHOUSE') || k === 'GROKSTREAM_STORE') delete env[k];
  return env;
}

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(command: string, args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; out: Finished; done: Promise<Finished> } {
  const child = spawn(command, args, { cwd: ROOT, env });
  const out: Finished = { code: null, stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => (out.stdout += d));
  child.stderr!.on('data', (d) => (out.stderr += d));
  const done = new Promise<Finished>((resolve) => child.on('exit', (code) => resolve({ ...out, code })));
  return { child, out, done };
}

/** Resolves with the first match of `re` in the child's stderr, or fails after `ms`. */
async function waitForLine(out: Finished, re: RegExp, ms: number): Promise<RegExpExecArray> {
  const until = Date.now() + ms;
  for (;;) {
    const m = re.exec(out.stderr);
    if (m) return m;
    if (Date.now() > until) throw new Error(`no line matching ${re} in ${ms / 1000} s; stderr:\n${out.stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every panel drawn, and with data (an empty panel says why, which is a failure here). */
function expectEveryPanelWithData(panels: PanelState[]): void {
  expect(panels.length).toBeGreaterThanOrEqual(25);
  const without = panels.filter((p) => !p.drawn || p.points === 0).map((p) => `${p.id}: ${p.empty ?? 'not drawn'}`);
  expect(without).toEqual([]);
}

describe("the README's first command", () => {
  let browser: Browser;
  const dataDir = mkdtempSync(join(tmpdir(), 'grokstream-readme-'));
  let runId = '';
  let reportPath = '';
  let stdout = '';

  beforeAll(async () => {
    browser = await launchBrowser();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('installs and trains the grokking example on the embedded default: phases, stop, data and report', async () => {
    const command = readmeCommand('run');
    expect(command).toMatch(/pnpm grokstream run examples\/modular-addition-grokking\.yaml/);
    const t0 = Date.now();
    const res = await start('bash', ['-c', command], newcomerEnv(dataDir)).done;
    const seconds = (Date.now() - t0) / 1000;
    expect(res.code, res.stderr.slice(-3000)).toBe(0);
    stdout = res.stdout;
    expect(res.stderr).toMatch(/^backend: \w+( \([^)]*\))?$/m);
    const phases = /phases \(detector\): (.*)/.exec(stdout)?.[1] ?? '';
    const at = (phase: string) => Number(new RegExp(`${phase} at (\\d+)`).exec(phases)?.[1] ?? NaN);
    expect(at('MEMORIZATION')).toBeGreaterThan(0);
    expect(at('GROKKING')).toBeGreaterThan(at('MEMORIZATION'));
    const memorized = Number(/memorized \(train acc ≥ 0\.99\): step (\d+)/.exec(stdout)?.[1]);
    const grokked = Number(/grokked \(test acc ≥ 0\.95 after memorizing\): step (\d+)/.exec(stdout)?.[1]);
    expect(grokked).toBeGreaterThan(memorized + 100); // a real delay, not simultaneous
    expect(stdout).toMatch(/^ {2}stop: /m);
    expect(stdout).toMatch(/^ {2}data: .*chdb, database grokstream; events: .*\.avro$/m);
    runId = /^run (\S+):/m.exec(stdout)![1]!;
    reportPath = join(dataDir, 'reports', `${runId}.html`);
    expect(existsSync(reportPath)).toBe(true);
    expect(existsSync(join(dataDir, 'events', `${runId}.avro`))).toBe(true);
    console.log(`README command: memorized ${memorized}, grokked ${grokked}; detector: ${phases}; ${seconds.toFixed(0)} s`);
  }, 400_000);

  it('leaves a report that draws every panel with data, offline, phases shaded in order, without console errors', async () => {
    expect(reportPath, 'the run above produced no report').not.toBe('');
    const watch = await openPage(browser, pathToFileURL(reportPath).href);
    const panels = await waitForPanels(watch.page);
    expectEveryPanelWithData(panels);
    expect(watch.problems).toEqual([]);
    // Self-contained: the page loads nothing but itself.
    expect(watch.requests.filter((u) => u !== pathToFileURL(reportPath).href)).toEqual([]);
    // Memorization, then grokking, shaded on the accuracy chart, in step order, and the GOP spectrum drawn.
    const accuracy = panels.find((p) => p.id === 'grokstream-run-overview--accuracy')!;
    expect(accuracy.bands).toBeGreaterThanOrEqual(2);
    const bands = await watch.page.evaluate(() => {
      const model = JSON.parse(document.getElementById('grokstream-model')!.textContent!);
      const overview = model.sections.find((s: { id: string }) => s.id === 'grokstream-run-overview');
      const series = overview.panels.find((p: { id: string }) => p.id === 'accuracy').view.option.series[0];
      return series.markArea.data.map((d: [{ name: string; xAxis: number }]) => ({ name: d[0].name, from: d[0].xAxis }));
    });
    const names = bands.map((b: { name: string }) => b.name);
    expect(names.indexOf('MEMORIZATION')).toBeGreaterThanOrEqual(0);
    expect(names.indexOf('GROKKING')).toBeGreaterThan(names.indexOf('MEMORIZATION'));
    expect(panels.find((p) => p.id === 'grokstream-gop-spectrum--gop-eigs-model')!.points).toBeGreaterThan(100);
    // The run's config is in the page.
    expect(await watch.page.locator('.configs pre').first().textContent()).toMatch(/"weight_decay": 1/);
    await screenshot(watch.page, join(SHOTS, 'report.png'));
    await screenshot(watch.page, join(SHOTS, 'report-full.png'), true);
    await watch.page.close();
  }, 120_000);

  it('grokstream ui serves the same page live: the runs listed, every panel drawn, refreshed', async () => {
    expect(runId).not.toBe('');
    const ui = start(process.execPath, [join(ROOT, 'services/cli/bin/grokstream.js'), 'ui', '--port', '0', '--refresh', '2'], newcomerEnv(dataDir));
    try {
      const url = (await waitForLine(ui.out, /ui: (http:\/\/127\.0\.0\.1:\d+\/)/, 60_000))[1]!;
      const watch = await openPage(browser, url);
      const panels = await waitForPanels(watch.page, 2); // the first render and one refresh
      expectEveryPanelWithData(panels);
      expect(watch.problems).toEqual([]);
      expect(await watch.page.locator('#sidebar').textContent()).toContain(runId);
      expect(panels.find((p) => p.id === 'grokstream-run-overview--loss')!.bands).toBeGreaterThanOrEqual(2);
      await screenshot(watch.page, join(SHOTS, 'ui.png'));
      await watch.page.close();
    } finally {
      ui.child.kill('SIGINT');
      const res = await ui.done;
      expect(res.code, res.stderr.slice(-1000)).toBe(130);
    }
  }, 180_000);

  it('grokstream ui on a store with nothing in it yet: the page waits for the first run, console clean', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grokstream-empty-ui-'));
    const ui = start(process.execPath, [join(ROOT, 'services/cli/bin/grokstream.js'), 'ui', '--port', '0', '--refresh', '1'], newcomerEnv(dir));
    try {
      const url = (await waitForLine(ui.out, /ui: (http:\/\/127\.0\.0\.1:\d+\/)/, 60_000))[1]!;
      const watch = await openPage(browser, url);
      await watch.page.waitForFunction(() => /waiting for the first run/.test(document.getElementById('status')?.textContent ?? ''), null, { timeout: 30_000 });
      expect(await watch.page.locator('#status').textContent()).toMatch(/nothing stored in chdb .* yet/);
      // Two refreshes later, still waiting, and no failed request logged by the browser.
      await new Promise((r) => setTimeout(r, 2_500));
      expect(watch.problems).toEqual([]);
      await watch.page.close();
    } finally {
      ui.child.kill('SIGINT');
      const res = await ui.done;
      expect(res.code, res.stderr.slice(-1000)).toBe(130);
    }
  }, 120_000);

  it('grokstream run --ui shows a run live while it trains: the curves grow between refreshes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grokstream-live-'));
    // Still training when the page first draws: the native backend trains ~90-140 steps/s here,
    // so the 400 steps this ran once were over in ~3-5 s, and a page whose first ask found no rows
    // yet (it asks again 5 s later) could first draw a finished run. 3,000 steps with no stop
    // policy (the example's own stops it at ~717, converged) train for ~20-35 s.
    const detector = join(dir, 'no-stops.yaml');
    writeFileSync(detector, 'detector: {name: e2e-live}\npolicies: []\n');
    const run = start(
      process.execPath,
      [join(ROOT, 'services/cli/bin/grokstream.js'), 'run', 'examples/modular-addition-grokking.yaml', 'run.steps=3000', '--detector', detector, '--ui', '--port', '0'],
      newcomerEnv(dir),
    );
    try {
      const url = (await waitForLine(run.out, /live page: (http:\S+)/, 90_000))[1]!;
      console.log(`live: ${url}`);
      const watch = await openPage(browser, url);
      // The run's first rows may take a moment: the page says so and retries.
      await watch.page.waitForFunction(() => Number(document.getElementById('report')?.dataset.rendered ?? 0) >= 1, null, { timeout: 90_000 });
      const loss = async () => (await panelStates(watch.page)).find((p) => p.id === 'grokstream-run-overview--loss')?.points ?? 0;
      const first = await loss();
      console.log(`live: first render, ${first} loss points`);
      const rendered = Number(await watch.page.evaluate(() => document.getElementById('report')!.dataset.rendered));
      // One refresh later (the run's own process answers it between steps: slow on a loaded machine).
      await watch.page.waitForFunction((n) => Number(document.getElementById('report')!.dataset.rendered) >= n + 1, rendered, { timeout: 150_000 });
      const later = await loss();
      expect(later).toBeGreaterThan(first);
      expect(watch.problems).toEqual([]);
      await screenshot(watch.page, join(SHOTS, 'ui-live.png'));
      await watch.page.close();
      await waitForLine(run.out, /Ctrl-C to stop serving/, 240_000);
      console.log(`live page: loss points ${first} -> ${later} between refreshes while training`);
      // Ctrl-C ends the serving after a finished run: exit 0, and the report was written.
      run.child.kill('SIGINT');
      const res = await run.done;
      expect(res.code, res.stderr.slice(-1500)).toBe(0);
      expect(res.stdout).toMatch(/report: /);
    } finally {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    }
  }, 480_000);
});
