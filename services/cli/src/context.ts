// What every subcommand is handed by main.ts: settings (read once, on first use), the logger and
// the interruption signal. Buses are built here so every command configures Kafka the same way.
import { MemoryBus, parseBrokers, type Bus } from '@grokstream/bus';
import {
  UsageError,
  createLogger,
  kafkaBus,
  readSettings,
  type Interruption,
  type KafkaSettings,
  type Logger,
  type Settings,
} from '@grokstream/shell';

export interface CommandContext {
  settings(): Settings;
  log: Logger;
  interruption: Interruption;
}

export function makeContext(env: NodeJS.ProcessEnv, interruption: (log: Logger) => Interruption): CommandContext {
  let settings: Settings | undefined;
  const read = () => (settings ??= readSettings(env));
  // The level is needed before anything else; a bad level is reported with the other settings.
  const level = (env.GROKSTREAM_LOG_LEVEL ?? '').toLowerCase();
  const log = createLogger(level === 'error' || level === 'warn' || level === 'debug' ? level : 'info');
  return { settings: read, log, interruption: interruption(log) };
}

/** --kafka wins over GROKSTREAM_KAFKA_BROKERS; the rest of the Kafka settings come from the environment. */
export function kafkaSettings(ctx: CommandContext, flag: string | undefined): KafkaSettings {
  const base = ctx.settings().kafka;
  if (flag === undefined) return base;
  try {
    return { ...base, brokers: parseBrokers(flag), fromEnvironment: true };
  } catch (err) {
    throw new UsageError(`--kafka: ${(err as Error).message}`);
  }
}

/** Kafka when --kafka or GROKSTREAM_KAFKA_BROKERS is given, else (for `run`) the in-process bus. */
export function busOrMemory(ctx: CommandContext, flag: string | undefined, clientId: string): { bus: Bus; where: string } {
  const kafka = kafkaSettings(ctx, flag);
  if (!kafka.fromEnvironment) return { bus: new MemoryBus(1), where: 'the in-process bus' };
  return { bus: kafkaBus(kafka, clientId, ctx.log), where: `Kafka at ${kafka.brokers.join(',')}` };
}
