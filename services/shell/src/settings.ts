// Settings of every grokstream process, read once from the environment with one set of
// defaults (those of the local stack, deploy/local/README.md) and validated at the edge: every
// problem is listed at once, with the variable to fix. Passwords come from a variable or a file
// and are held as Secrets (secrets.ts).
import { readFileSync } from 'node:fs';
import { parseBrokers } from '@grokstream/bus';
import { ConfigurationError } from './errors.ts';
import { LOG_LEVELS, type LogLevel } from './logger.ts';
import { Secret, redactUrl, rememberSecret } from './secrets.ts';

export const DEFAULTS = {
  brokers: '127.0.0.1:19092',
  clickhouseUrl: 'http://127.0.0.1:18123',
  clickhouseUser: 'default',
  /** The embedded pipeline's data: chdb in chdb/, event logs in events/, reports in reports/. */
  dataDir: '.grokstream/data',
  database: 'grokstream',
  partitions: 4,
  logLevel: 'info' as LogLevel,
};

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaSettings {
  brokers: string[];
  /** False when GROKSTREAM_KAFKA_BROKERS is unset (`grokstream run` then uses the in-process bus). */
  fromEnvironment: boolean;
  /** TLS to the brokers: true for the system's CAs, or the CA certificates to trust. */
  ssl?: true | { ca: string[] };
  sasl?: { mechanism: SaslMechanism; username: string; password: Secret };
}

export type StoreSettings =
  | { kind: 'clickhouse'; url: string; username: string; password?: Secret }
  | { kind: 'chdb'; path: string };

/** chdb's directory under the data directory, unless GROKSTREAM_CHDB_PATH says otherwise. */
export const chdbPathIn = (dataDir: string) => `${dataDir.replace(/\/$/, '')}/chdb`;

export interface Settings {
  kafka: KafkaSettings;
  store: StoreSettings;
  /** True when GROKSTREAM_STORE or a GROKSTREAM_CLICKHOUSE_* variable chose the store; false: the embedded default. */
  storeFromEnvironment: boolean;
  /** Where the embedded pipeline keeps chdb, event logs and reports (GROKSTREAM_DATA_DIR). */
  dataDir: string;
  database: string;
  partitions: number;
  ingestGroup?: string;
  logLevel: LogLevel;
}

export class SettingsError extends ConfigurationError {
  override readonly name: string = 'SettingsError';
}

export const SETTINGS_HELP = `Environment (read by every grokstream command and service):
  GROKSTREAM_KAFKA_BROKERS          host:port[,host:port]   (default ${DEFAULTS.brokers}; \`run\` without it uses the in-process bus)
  GROKSTREAM_KAFKA_SSL              true: TLS to the brokers (default false)
  GROKSTREAM_KAFKA_SSL_CA_FILE      PEM file of the CA to trust (implies TLS)
  GROKSTREAM_KAFKA_SASL_MECHANISM   plain | scram-sha-256 | scram-sha-512 (default: no SASL)
  GROKSTREAM_KAFKA_SASL_USERNAME    SASL user
  GROKSTREAM_KAFKA_SASL_PASSWORD    SASL password, or GROKSTREAM_KAFKA_SASL_PASSWORD_FILE: a file holding it
  GROKSTREAM_STORE                  clickhouse | chdb       (default chdb; clickhouse when a GROKSTREAM_CLICKHOUSE_* variable is set)
  GROKSTREAM_DATA_DIR               the embedded data: chdb, event logs, reports (default ${DEFAULTS.dataDir})
  GROKSTREAM_CLICKHOUSE_URL         server URL              (default ${DEFAULTS.clickhouseUrl})
  GROKSTREAM_CLICKHOUSE_USER        user                    (default ${DEFAULTS.clickhouseUser})
  GROKSTREAM_CLICKHOUSE_PASSWORD    password, or GROKSTREAM_CLICKHOUSE_PASSWORD_FILE: a file holding it (default none)
  GROKSTREAM_CHDB_PATH              chdb data directory     (default ${chdbPathIn(DEFAULTS.dataDir)})
  GROKSTREAM_DATABASE               database name           (default ${DEFAULTS.database})
  GROKSTREAM_PARTITIONS             partitions of new topics (default ${DEFAULTS.partitions})
  GROKSTREAM_INGEST_GROUP           ingest consumer group   (default grokstream-ingest-<store>-<database>)
  GROKSTREAM_LOG_LEVEL              error | warn | info | debug (default ${DEFAULTS.logLevel})
Passwords are never printed: logs and errors show *** in their place.`;

type Env = Record<string, string | undefined>;

export function readSettings(env: Env, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): Settings {
  const problems: string[] = [];
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      problems.push((err as Error).message);
      return undefined;
    }
  };
  /** A secret from NAME or NAME_FILE (not both); a file's trailing newline is not part of it. */
  const secret = (name: string): Secret | undefined => {
    const direct = env[name];
    const file = env[`${name}_FILE`];
    if (direct && file) {
      problems.push(`give ${name} or ${name}_FILE, not both`);
      return undefined;
    }
    let value = direct;
    if (file) {
      value = attempt(() => {
        try {
          return readFile(file).replace(/\r?\n$/, '');
        } catch (err) {
          throw new Error(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
        }
      });
    }
    if (value === undefined || value === '') return undefined;
    rememberSecret(value);
    return new Secret(value);
  };

  const brokersText = env.GROKSTREAM_KAFKA_BROKERS || DEFAULTS.brokers;
  const brokers = attempt(() => parseBrokers(brokersText));
  const kafka: KafkaSettings = { brokers: brokers ?? [], fromEnvironment: Boolean(env.GROKSTREAM_KAFKA_BROKERS) };
  const sslFlag = (env.GROKSTREAM_KAFKA_SSL ?? '').toLowerCase();
  if (sslFlag && !['true', 'false', '1', '0'].includes(sslFlag)) problems.push(`GROKSTREAM_KAFKA_SSL must be true or false, got "${env.GROKSTREAM_KAFKA_SSL}"`);
  if (env.GROKSTREAM_KAFKA_SSL_CA_FILE) {
    const file = env.GROKSTREAM_KAFKA_SSL_CA_FILE;
    const ca = attempt(() => {
      try {
        return readFile(file);
      } catch (err) {
        throw new Error(`GROKSTREAM_KAFKA_SSL_CA_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    });
    if (ca !== undefined) kafka.ssl = { ca: [ca] };
  } else if (sslFlag === 'true' || sslFlag === '1') {
    kafka.ssl = true;
  }
  const mechanism = env.GROKSTREAM_KAFKA_SASL_MECHANISM?.toLowerCase();
  if (mechanism) {
    const username = env.GROKSTREAM_KAFKA_SASL_USERNAME;
    const password = secret('GROKSTREAM_KAFKA_SASL_PASSWORD');
    if (!['plain', 'scram-sha-256', 'scram-sha-512'].includes(mechanism)) {
      problems.push(`GROKSTREAM_KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512, got "${env.GROKSTREAM_KAFKA_SASL_MECHANISM}"`);
    } else if (!username || !password) {
      problems.push('SASL needs GROKSTREAM_KAFKA_SASL_USERNAME and GROKSTREAM_KAFKA_SASL_PASSWORD (or _PASSWORD_FILE)');
    } else {
      kafka.sasl = { mechanism: mechanism as SaslMechanism, username, password };
    }
  }

  // Nothing configured: the embedded engine, so a fresh checkout needs no server. Any of the
  // server's variables (URL, user, password) means the server.
  const serverNamed = ['URL', 'USER', 'PASSWORD', 'PASSWORD_FILE'].some((v) => env[`GROKSTREAM_CLICKHOUSE_${v}`]);
  const kind = env.GROKSTREAM_STORE || (serverNamed ? 'clickhouse' : 'chdb');
  const dataDir = env.GROKSTREAM_DATA_DIR || DEFAULTS.dataDir;
  let store: StoreSettings | undefined;
  if (kind === 'clickhouse') {
    store = clickhouseStore(env.GROKSTREAM_CLICKHOUSE_URL || DEFAULTS.clickhouseUrl, env.GROKSTREAM_CLICKHOUSE_USER, secret('GROKSTREAM_CLICKHOUSE_PASSWORD'), problems);
  } else if (kind === 'chdb') {
    store = { kind, path: env.GROKSTREAM_CHDB_PATH || chdbPathIn(dataDir) };
  } else {
    problems.push(`GROKSTREAM_STORE must be clickhouse or chdb, got "${kind}"`);
  }

  const database = env.GROKSTREAM_DATABASE || DEFAULTS.database;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) {
    problems.push(`GROKSTREAM_DATABASE must be a plain identifier (letters, digits, _), got "${database}"`);
  }
  const partitionsText = env.GROKSTREAM_PARTITIONS || String(DEFAULTS.partitions);
  const partitions = Number(partitionsText);
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024) {
    problems.push(`GROKSTREAM_PARTITIONS must be a whole number from 1 to 1024, got "${partitionsText}"`);
  }
  const logLevel = (env.GROKSTREAM_LOG_LEVEL || DEFAULTS.logLevel).toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`GROKSTREAM_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.GROKSTREAM_LOG_LEVEL}"`);

  if (problems.length > 0) throw new SettingsError(`invalid settings:\n  - ${problems.join('\n  - ')}\n\n${SETTINGS_HELP}`);
  const storeFromEnvironment = Boolean(env.GROKSTREAM_STORE) || serverNamed;
  return { kafka, store: store!, storeFromEnvironment, dataDir, database, partitions, ingestGroup: env.GROKSTREAM_INGEST_GROUP || undefined, logLevel };
}

/** The server URL without credentials; user and password from the URL or the variables (the variables win). */
function clickhouseStore(urlText: string, user: string | undefined, password: Secret | undefined, problems: string[]): StoreSettings | undefined {
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    problems.push(`GROKSTREAM_CLICKHOUSE_URL must be an http(s) URL, got "${redactUrl(urlText)}"`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`GROKSTREAM_CLICKHOUSE_URL must be an http(s) URL, got "${url.protocol}//${url.host}"`);
    return undefined;
  }
  const fromUrl = url.password ? new Secret(decodeURIComponent(url.password)) : undefined;
  if (fromUrl) rememberSecret(fromUrl.reveal());
  const username = user || decodeURIComponent(url.username) || DEFAULTS.clickhouseUser;
  url.username = '';
  url.password = '';
  const pw = password ?? fromUrl;
  return { kind: 'clickhouse', url: url.toString().replace(/\/$/, ''), username, ...(pw ? { password: pw } : {}) };
}
