// Global setup of the trainer-native project: the native TensorFlow backend built from registry
// packages (pnpm setup:native: the PyPI tensorflow wheel's libraries, tfjs-node's binding compiled
// here), as the integration tests' setup brings up the stack. Idempotent: a built backend is
// checked in a few seconds; the first build downloads ~570 MB from PyPI and compiles for ~40 s.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const LIMIT_MS = 15 * 60_000;

export function setup(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'services/trainer/scripts/setup-native.ts')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (d: Buffer) => {
      out += d.toString();
      for (const line of d.toString().split('\n')) if (line.trim()) console.log(`native | ${line}`);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`pnpm setup:native failed (${signal ?? `exit ${code}`}), so the trainer-native project cannot run:\n${out.slice(-3000)}`));
    });
  });
}
