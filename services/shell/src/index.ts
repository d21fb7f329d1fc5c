export { GrokstreamError, UsageError, ConfigurationError, RuntimeFailure, Interrupted } from './errors.ts';
export { Secret, redact, redactUrl, rememberSecret } from './secrets.ts';
export { createLogger, LOG_LEVELS, type Logger, type LogLevel } from './logger.ts';
export { DEFAULTS, SETTINGS_HELP, SettingsError, readSettings, type Settings, type KafkaSettings, type StoreSettings, type SaslMechanism } from './settings.ts';
export { listenForInterrupts, serve, type Interruption, type Service, type ServeOptions } from './runner.ts';
export { kafkaBus, kafkaClientLog, openStore, openReadableStore, describeStore, queryStore, type QueryInput } from './connect.ts';
