// Global setup of the e2e project: the browser tests drive Debian's headless Chromium, so a fresh
// machine gets it here, as the integration tests get their stack (tests/stack-setup.ts): when
// /usr/bin/chromium (or $GROKSTREAM_CHROMIUM) is missing and we are root, `apt-get install -y
// chromium`, bounded; otherwise a clear error saying what to install.
import { runBounded } from './bounded-command.ts';
import { existsSync } from 'node:fs';

const CHROMIUM = process.env.GROKSTREAM_CHROMIUM ?? '/usr/bin/chromium';
const LIMIT_MS = 10 * 60_000;

export async function setup(): Promise<void> {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`the browser tests need Chromium at ${CHROMIUM}: install Debian's package (sudo apt-get install -y chromium) or set GROKSTREAM_CHROMIUM`);
  }
  const t0 = Date.now();
  console.log(`e2e: no Chromium at ${CHROMIUM}; installing Debian's chromium package for the browser tests (at most ${LIMIT_MS / 60_000} min)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runBounded('apt-get', ['update', '-qq'], { limitMs: LIMIT_MS, env });
  await runBounded('apt-get', ['install', '-y', '-qq', 'chromium'], { limitMs: LIMIT_MS, env });
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing: set GROKSTREAM_CHROMIUM to its path`);
  console.log(`e2e: chromium installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
