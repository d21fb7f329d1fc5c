// kafkajs logs structured entries (namespace, message, broker, error, retry counters, ...). Its
// default logger prints them as JSON; we turn each into one readable line for our own logger.
import { logLevel as KafkaLogLevel, type LogEntry, type logCreator } from 'kafkajs';

export type KafkaLogLevelName = 'error' | 'warn' | 'info' | 'debug';
export type KafkaLog = (level: KafkaLogLevelName, line: string) => void;

const NAMES: Record<number, KafkaLogLevelName> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/** Fields that are noise in one line: the stack goes with a debugger, the rest is always the same. */
const SKIPPED = new Set(['timestamp', 'logger', 'message', 'namespace', 'stack', 'clientId', 'error', 'broker']);

function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length > 200 ? `${v.slice(0, 200)}...` : v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Error) return v.message;
  return undefined;
}

function errorText(e: unknown): string | undefined {
  if (e instanceof Error) return e.message;
  return scalar(e);
}

/** One line per entry: `kafka warn [Connection] Connection error: connect ECONNREFUSED (broker 127.0.0.1:19092)`. */
export function kafkaLogLine(entry: Pick<LogEntry, 'namespace' | 'level'> & { log: Record<string, unknown> }): string {
  const level = NAMES[entry.level] ?? 'info';
  const log = entry.log;
  let text = scalar(log.message) ?? '';
  const error = errorText(log.error);
  if (error && !text.includes(error)) text = text ? `${text}: ${error}` : error;
  const details: string[] = [];
  const broker = scalar(log.broker);
  if (broker) details.push(`broker ${broker}`);
  for (const [k, v] of Object.entries(log)) {
    if (SKIPPED.has(k)) continue;
    const s = scalar(v);
    if (s !== undefined && s !== '') details.push(`${k} ${s}`);
  }
  const ns = entry.namespace ? ` [${entry.namespace}]` : '';
  return `kafka ${level}${ns} ${text}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
}

/** A kafkajs logCreator writing through `log` (kafkajs has already filtered by its logLevel). */
export function kafkaLogCreator(log: KafkaLog): logCreator {
  return () => (entry: LogEntry) => {
    try {
      log(NAMES[entry.level] ?? 'info', kafkaLogLine(entry));
    } catch {
      // A failing logger must never break the client.
    }
  };
}

/** Default: one line on stderr. */
export const stderrLog: KafkaLog = (_level, line) => {
  process.stderr.write(`${line}\n`);
};
