import { defineConfig } from 'vitest/config';

// Two projects, like clickhouse-js: unit specs live beside the code and need no servers;
// integration tests live in tests/ and need Kafka and ClickHouse (CI starts them).
export default defineConfig({
  test: {
    reporters: ['default', './tests/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['schemas/**/*.spec.ts', 'services/**/*.spec.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
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
          testTimeout: 300_000,
          // Each example trains on both cores: one at a time.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
