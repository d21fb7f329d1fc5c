// Global setup of the trainer-native project: the native TensorFlow backend built from registry
// packages (pnpm setup:native: the PyPI tensorflow wheel's libraries, tfjs-node's binding compiled
// here), as the integration tests' setup brings up the stack. Idempotent: a built backend is
// checked in a few seconds; the first build downloads ~570 MB from PyPI and compiles for ~40 s.
import { runBounded } from './bounded-command.ts';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const LIMIT_MS = 15 * 60_000;

export async function setup(): Promise<void> {
  try {
    await runBounded(process.execPath, ['--import', 'tsx', join(ROOT, 'services/trainer/scripts/setup-native.ts')], { cwd: ROOT, limitMs: LIMIT_MS, echo: 'native' });
  } catch (err) {
    throw new Error(`pnpm setup:native failed, so the trainer-native project cannot run: ${(err as Error).message}`);
  }
}
