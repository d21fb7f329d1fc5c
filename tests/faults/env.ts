// Where the fault suite's private stack lives. It never touches the shared local stack (19092 /
// 18123): its own ports, its own stack dir, and processes it kills only by the PIDs in that dir.
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..', '..');
export const STACK_DIR = join(REPO, '.grokstream', 'faults-stack');
/** Captured stdout/stderr of every process the suite starts (case 7 greps them for secrets). */
export const LOG_DIR = join(REPO, '.grokstream', 'faults-logs');
/** Checkpoints, detector configs, event files: one folder per case. */
export const WORK_DIR = join(REPO, '.grokstream', 'faults-work');
export const RESULTS_FILE = join(REPO, 'bench-results', 'faults.json');

export const KAFKA_PORT = 29092;
export const KAFKA_CONTROLLER_PORT = 29093;
/** The SASL and SSL listeners every local Kafka has (deploy/local): unused here, but they must not collide with the shared stack's 19094/19095. */
export const KAFKA_SASL_PORT = 29094;
export const KAFKA_SSL_PORT = 29095;
export const CLICKHOUSE_HTTP_PORT = 28123;
export const CLICKHOUSE_TCP_PORT = 29000;

export const BROKERS = `127.0.0.1:${KAFKA_PORT}`;
export const CLICKHOUSE_URL = `http://127.0.0.1:${CLICKHOUSE_HTTP_PORT}`;

/** What deploy/local/*.sh read: the private ports and stack dir, whatever the caller exported. */
export const STACK_ENV: Record<string, string> = {
  GROKSTREAM_STACK_DIR: STACK_DIR,
  GROKSTREAM_KAFKA_PORT: String(KAFKA_PORT),
  GROKSTREAM_KAFKA_CONTROLLER_PORT: String(KAFKA_CONTROLLER_PORT),
  GROKSTREAM_KAFKA_SASL_PORT: String(KAFKA_SASL_PORT),
  GROKSTREAM_KAFKA_SSL_PORT: String(KAFKA_SSL_PORT),
  GROKSTREAM_CLICKHOUSE_HTTP_PORT: String(CLICKHOUSE_HTTP_PORT),
  GROKSTREAM_CLICKHOUSE_TCP_PORT: String(CLICKHOUSE_TCP_PORT),
};

/** The base environment of every process the suite spawns: pointed at the private stack only. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...STACK_ENV, GROKSTREAM_KAFKA_BROKERS: BROKERS, GROKSTREAM_CLICKHOUSE_URL: CLICKHOUSE_URL };
  // Output goes to pipes: no colour codes, no progress redraws.
  env.NO_COLOR = '1';
  delete env.FORCE_COLOR;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** A short id that makes database names, run names, groups and detector names unique per case. */
export function uniqueId(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0')}`;
}
