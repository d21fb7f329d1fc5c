// Global setup of the e2e project: the browser tests drive Debian's headless Chromium, so a fresh
// machine gets it here, as the integration tests get their stack (tests/stack-setup.ts): when
// /usr/bin/chromium (or $GROKSTREAM_CHROMIUM) is missing and we are root, `apt-get install -y
// chromium`, bounded; otherwise a clear error saying what to install.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = process.env.GROKSTREAM_CHROMIUM ?? '/usr/bin/chromium';
const LIMIT_MS = 10 * 60_000;

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    let tail = '';
    const keep = (d: Buffer) => {
      tail = (tail + d.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${tail}`));
    });
  });
}

export async function setup(): Promise<void> {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`the browser tests need Chromium at ${CHROMIUM}: install Debian's package (sudo apt-get install -y chromium) or set GROKSTREAM_CHROMIUM`);
  }
  const t0 = Date.now();
  console.log(`e2e: no Chromium at ${CHROMIUM}; installing Debian's chromium package for the browser tests (at most ${LIMIT_MS / 60_000} min)`);
  await run('apt-get', ['update', '-qq']);
  await run('apt-get', ['install', '-y', '-qq', 'chromium']);
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing: set GROKSTREAM_CHROMIUM to its path`);
  console.log(`e2e: chromium installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
