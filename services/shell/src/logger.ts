// One logger for every process: leveled lines on stderr, each passed through redact(). The level
// comes from GROKSTREAM_LOG_LEVEL (settings.ts); the Kafka client's own logs come through here too.
import { redact } from './secrets.ts';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  readonly level: LogLevel;
  error(line: string): void;
  warn(line: string): void;
  info(line: string): void;
  debug(line: string): void;
  /** At a level chosen at run time (the Kafka client's entries). */
  log(level: LogLevel, line: string): void;
}

export function createLogger(level: LogLevel = 'info', write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Logger {
  const rank = LOG_LEVELS.indexOf(level);
  const log = (at: LogLevel, line: string) => {
    if (LOG_LEVELS.indexOf(at) <= rank) write(redact(line));
  };
  return {
    level,
    log,
    error: (l) => log('error', l),
    warn: (l) => log('warn', l),
    info: (l) => log('info', l),
    debug: (l) => log('debug', l),
  };
}
