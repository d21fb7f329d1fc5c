// The backend the trainer's specs run on: cpu (pure JS, the default: no setup, exact and the
// same everywhere), or GROKSTREAM_TEST_BACKEND=wasm|tensorflow, which the `trainer-wasm` and
// `trainer-native` vitest projects set so the specs hold on every backend a run can use. A
// backend that is asked for and cannot load fails the spec file: it never falls back.
import { chooseBackend, type BackendName } from './tf.ts';

export const TEST_BACKENDS: BackendName[] = ['cpu', 'wasm', 'tensorflow'];

export async function useTestBackend(env: NodeJS.ProcessEnv = process.env): Promise<BackendName> {
  const wanted = (env.GROKSTREAM_TEST_BACKEND || 'cpu') as BackendName;
  if (!TEST_BACKENDS.includes(wanted)) throw new Error(`GROKSTREAM_TEST_BACKEND must be one of ${TEST_BACKENDS.join(', ')}, got "${wanted}"`);
  const chosen = await chooseBackend(wanted);
  if (chosen.name !== wanted) {
    throw new Error(`GROKSTREAM_TEST_BACKEND=${wanted} cannot load: ${chosen.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
  }
  return chosen.name;
}
