// Once per `vitest run --project faults`: a fresh private stack (its dir is wiped when nothing of
// ours runs in it), fresh log capture, and the stack stopped again at the end, unless
// GROKSTREAM_FAULTS_KEEP_STACK=1 keeps it for the next run (faster while developing a case).
import { rmSync } from 'node:fs';
import { LOG_DIR, STACK_DIR } from './env.ts';
import { ensureStack, resetStackDirIfStopped, stopStack } from './stack.ts';

export async function setup(): Promise<void> {
  rmSync(LOG_DIR, { recursive: true, force: true });
  const fresh = resetStackDirIfStopped();
  const t0 = Date.now();
  await ensureStack();
  console.log(`faults: private stack ${fresh ? 'started fresh' : 'already running'} in ${STACK_DIR} (${Date.now() - t0} ms)`);
}

export async function teardown(): Promise<void> {
  if (process.env.GROKSTREAM_FAULTS_KEEP_STACK === '1') return;
  await stopStack();
}
