import { defineConfig } from 'vitest/config';
import { FaultsLastInNameOrder } from './tests/faults/sequencer.ts';

// Projects, like clickhouse-js: unit specs live beside the code and need no servers;
// integration tests live in tests/ and need Kafka and ClickHouse (their global setup starts the
// local stack when it is not running).

// The fault suite (issue 7): its own Kafka and ClickHouse on other ports, killed and restarted
// under running services; about ten minutes, last in `pnpm test`; alone: `pnpm test:faults`.
const FAULTS = {
  test: {
    name: 'faults',
    include: ['tests/faults/**/*.test.ts'],
    globalSetup: ['tests/faults/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    teardownTimeout: 120_000,
    // One private stack, killed and restarted by the cases: one file at a time.
    pool: 'forks' as const,
    poolOptions: { forks: { singleFork: true } },
    fileParallelism: false,
    // The CLI table runs its rows three at a time (two cores).
    maxConcurrency: 3,
  },
};

// The trainer's specs again on the two backends a run can use besides the specs' default cpu:
// wasm (the zero-setup default of grokstream run) and native TensorFlow (pnpm setup:native, which
// the project's global setup runs), so neither rots.
// trainer-native also runs the graph step's tests (*.native.test.ts): they need the graph addon,
// which setup:native builds with the backend.
const trainerOn = (name: string, backend: 'wasm' | 'tensorflow', globalSetup?: string[]) => ({
  test: {
    name,
    include: ['services/trainer/src/**/*.spec.ts', ...(backend === 'tensorflow' ? ['services/trainer/src/**/*.native.test.ts'] : [])],
    env: { GROKSTREAM_TEST_BACKEND: backend },
    testTimeout: 60_000,
    ...(globalSetup ? { globalSetup } : {}),
  },
});

export default defineConfig({
  test: {
    reporters: ['default', './tests/summary-reporter.ts'],
    // Fault cases in name order, the secrets scan (7) last; vitest's own order otherwise.
    sequence: { sequencer: FaultsLastInNameOrder },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['schemas/**/*.spec.ts', 'services/**/*.spec.ts', 'deploy/**/*.spec.ts', 'tests/*.spec.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          // Starts the local stack when it is not running, and stops it again at the end.
          globalSetup: ['tests/stack-setup.ts'],
          testTimeout: 240_000,
          hookTimeout: 120_000,
          // One broker and one server are shared: run integration files one at a time.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          // The browser tests need Debian's Chromium: installed here when missing (as root); the
          // transformer example needs the native backend (pnpm setup:native, idempotent).
          globalSetup: ['tests/browser-setup.ts', 'tests/native-setup.ts'],
          testTimeout: 300_000,
          // Each example trains on both cores: one at a time.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
      trainerOn('trainer-wasm', 'wasm'),
      trainerOn('trainer-native', 'tensorflow', ['tests/native-setup.ts']),
      FAULTS,
    ],
  },
});
