// Structural checks of the deployment files: the compose stack (deploy/compose), the Grafana
// provisioning (deploy/grafana), the Dockerfile and .dockerignore. No Docker daemon needed: they
// read the files and compare them with each other and with the code they configure (the settings
// of services/shell/src/settings.ts, the commands of services/cli). When a `docker compose` (v2)
// CLI is installed, compose's own validation runs too; it needs no daemon.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { SETTINGS_HELP, readSettings } from '@grokstream/shell';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const COMPOSE_DIR = join(ROOT, 'deploy/compose');
const COMPOSE_FILE = join(COMPOSE_DIR, 'compose.yaml');
const DATASOURCE_FILE = join(ROOT, 'deploy/grafana/provisioning/datasources/grokstream.yaml');
const DASHBOARDS_FILE = join(ROOT, 'deploy/grafana/provisioning/dashboards/grokstream.yaml');
const READER_XML = join(COMPOSE_DIR, 'clickhouse/users.d/grokstream-reader.xml');
/** The image's default HTTP and native ports (clickhouse/clickhouse-server). */
const CLICKHOUSE_HTTP_PORT = 8123;
const CLICKHOUSE_NATIVE_PORT = 9000;

type Env = Record<string, string>;
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Env | string[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  ports?: (string | number | { target?: number; published?: string | number; host_ip?: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[] };
  restart?: string;
  hostname?: string;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const read = (path: string): string => readFileSync(path, 'utf8');
const rel = (path: string): string => relative(ROOT, path);

/** Parses YAML, failing on any error (syntax, duplicate keys) with the file's name. */
function parseYaml<T>(path: string): T {
  const doc = parseDocument(read(path), { prettyErrors: true });
  if (doc.errors.length > 0) throw new Error(`${rel(path)}: ${doc.errors.map((e) => e.message).join('\n')}`);
  return doc.toJS() as T;
}

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

// ---- compose interpolation ----------------------------------------------------------------

const REFERENCE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^}$]|\$\$)*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** The ${VAR...} references in a compose value: name, operator (:- - :? ?) and its word. */
function references(text: string): { name: string; op: string; word: string }[] {
  return [...text.replaceAll('$$', '').matchAll(REFERENCE)].map((m) => ({ name: (m[1] ?? m[4])!, op: m[2] ?? '', word: m[3] ?? '' }));
}

/** Compose's interpolation (the forms this repository uses): $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}, $$. */
function interpolate(text: string, env: Env): string {
  return text
    .split('$$')
    .map((part) =>
      part.replace(REFERENCE, (_all, braced: string | undefined, op: string | undefined, word: string | undefined, bare: string | undefined) => {
        const name = (braced ?? bare)!;
        const value = env[name];
        const unset = op?.startsWith(':') ? !value : value === undefined;
        if (op?.endsWith('-')) return unset ? (word ?? '') : value!;
        if (op?.endsWith('?')) {
          if (unset) throw new Error(`required variable ${name} is missing a value: ${word}`);
          return value!;
        }
        return value ?? '';
      }),
    )
    .join('$');
}

/** Grafana's provisioning interpolation: os.ExpandEnv ($VAR and ${VAR}, no defaults), $$ for a literal $. */
function grafanaExpand(text: string, env: Env): string {
  return text
    .split('$$')
    .map((part) => part.replace(/\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_all, braced: string | undefined, bare: string | undefined) => env[(braced ?? bare)!] ?? ''))
    .join('$');
}

/** Variables .env.example sets (KEY=value lines, not comments). */
function envExample(): Env {
  const out: Env = {};
  for (const line of read(join(COMPOSE_DIR, '.env.example')).split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

const compose = (): ComposeFile => parseYaml<ComposeFile>(COMPOSE_FILE);

/** The host environment the checks resolve compose.yaml with: every variable of .env.example set to a test value, nothing else (so the defaults apply). */
function testHostEnv(): Env {
  return Object.fromEntries(Object.keys(envExample()).map((k) => [k, `test-${k.toLowerCase()}`]));
}

function environmentOf(service: Service, hostEnv: Env = testHostEnv()): Env {
  const raw = service.environment ?? {};
  const entries = Array.isArray(raw) ? raw.map((kv) => [kv.split('=')[0]!, kv.slice(kv.indexOf('=') + 1)] as const) : Object.entries(raw);
  return Object.fromEntries(entries.map(([k, v]) => [k, interpolate(String(v), hostEnv)]));
}

interface Mount {
  source: string;
  target: string;
  bind: boolean;
}

function mountsOf(service: Service, hostEnv: Env = testHostEnv()): Mount[] {
  return (service.volumes ?? []).map((v) => {
    if (typeof v === 'string') {
      const [source, target] = interpolate(v, hostEnv).split(':');
      const bind = source!.startsWith('.') || source!.startsWith('/');
      return { source: bind ? resolve(COMPOSE_DIR, source!) : source!, target: target!, bind };
    }
    const bind = v.type === 'bind';
    return { source: bind ? resolve(COMPOSE_DIR, v.source!) : v.source!, target: v.target!, bind };
  });
}

interface PortMapping {
  hostIp?: string;
  published?: number;
  target: number;
}

function portsOf(service: Service, hostEnv: Env = testHostEnv()): PortMapping[] {
  return (service.ports ?? []).map((p) => {
    if (typeof p === 'object') return { hostIp: p.host_ip, published: p.published === undefined ? undefined : Number(p.published), target: Number(p.target) };
    const parts = interpolate(String(p), hostEnv).replace(/\/(tcp|udp)$/, '').split(':');
    const target = Number(parts.pop());
    const published = parts.length > 0 ? Number(parts.pop()) : undefined;
    return { hostIp: parts.pop(), published, target };
  });
}

function buildOf(service: Service): { context: string; dockerfile: string } | undefined {
  if (service.build === undefined) return undefined;
  const b = typeof service.build === 'string' ? { context: service.build } : service.build;
  const context = resolve(COMPOSE_DIR, b.context ?? '.');
  return { context, dockerfile: resolve(context, b.dockerfile ?? 'Dockerfile') };
}

const commandOf = (s: Service): string[] => (typeof s.command === 'string' ? s.command.split(/\s+/) : (s.command ?? []));

/** The services that run grokstream: built from the repository's Dockerfile. */
function grokstreamServices(c: ComposeFile): [string, Service][] {
  return Object.entries(c.services).filter(([, s]) => buildOf(s)?.dockerfile === join(ROOT, 'Dockerfile'));
}

/** Every GROKSTREAM_* variable settings.ts documents in SETTINGS_HELP (the list `grokstream --help` prints). */
const SETTING_VARIABLES = new Set(SETTINGS_HELP.match(/GROKSTREAM_[A-Z0-9_]+/g));

// ---- minimal XML ----------------------------------------------------------------------------

/** The inner text of the first <tag ...>...</tag> (or <tag .../>, as '') in xml, comments removed; undefined when absent. */
function element(xml: string, tag: string): { attrs: string; inner: string } | undefined {
  const text = xml.replace(/<!--[\s\S]*?-->/g, '');
  const m = new RegExp(`<${tag}(\\s[^>]*?)?(?:/>|>([\\s\\S]*?)</${tag}>)`).exec(text);
  return m ? { attrs: m[1] ?? '', inner: m[2] ?? '' } : undefined;
}

function at(xml: string, ...path: string[]): { attrs: string; inner: string } | undefined {
  let node: { attrs: string; inner: string } | undefined = { attrs: '', inner: xml };
  for (const tag of path) node = node && element(node.inner, tag);
  return node;
}

// ---- the checks ---------------------------------------------------------------------------

describe('deploy: YAML', () => {
  it('every YAML file under deploy/compose and deploy/grafana parses (syntax, duplicate keys)', () => {
    const files = [...yamlFilesUnder(COMPOSE_DIR), ...yamlFilesUnder(join(ROOT, 'deploy/grafana'))];
    expect(files.map(rel)).toEqual(expect.arrayContaining([rel(COMPOSE_FILE), rel(DATASOURCE_FILE), rel(DASHBOARDS_FILE)]));
    for (const f of files) expect(() => parseYaml(f), rel(f)).not.toThrow();
  });
});

describe('deploy/compose/compose.yaml', () => {
  it('has the five services', () => {
    expect(Object.keys(compose().services).sort()).toEqual(['clickhouse', 'detect', 'grafana', 'ingest', 'kafka']);
  });

  it('bind-mounts only paths that exist, and declares its named volumes', () => {
    const c = compose();
    for (const [name, s] of Object.entries(c.services)) {
      for (const m of mountsOf(s)) {
        if (m.bind) expect(existsSync(m.source), `${name}: bind mount source ${rel(m.source)} does not exist`).toBe(true);
        else expect(Object.keys(c.volumes ?? {}), `${name}: volume ${m.source} is not declared`).toContain(m.source);
      }
    }
  });

  it('builds from contexts and Dockerfiles that exist; ingest and detect from the repository Dockerfile', () => {
    const c = compose();
    for (const [name, s] of Object.entries(c.services)) {
      const b = buildOf(s);
      if (!b) continue;
      expect(statSync(b.context).isDirectory(), `${name}: build context ${rel(b.context)}`).toBe(true);
      expect(existsSync(b.dockerfile), `${name}: ${rel(b.dockerfile)}`).toBe(true);
    }
    expect(grokstreamServices(c).map(([n]) => n).sort()).toEqual(['detect', 'ingest']);
  });

  it('runs real grokstream commands (services/cli) with flags the CLI documents', () => {
    const main = read(join(ROOT, 'services/cli/src/main.ts'));
    const commands = /const COMMANDS[^=]*=\s*\{([^}]*)\}/.exec(main)?.[1]?.split(',').map((s) => s.trim()) ?? [];
    expect(commands).toContain('ingest');
    const help = read(join(ROOT, 'services/cli/src/help.ts'));
    const c = compose();
    expect(commandOf(c.services.ingest!)[0]).toBe('ingest');
    expect(commandOf(c.services.detect!)[0]).toBe('detect');
    for (const [name, s] of grokstreamServices(c)) {
      const [command, ...args] = commandOf(s);
      expect(commands, name).toContain(command);
      for (const flag of args.filter((a) => a.startsWith('--'))) expect(help, `${name}: ${flag}`).toContain(flag.split('=')[0]);
    }
  });

  it('gives the grokstream services only GROKSTREAM_* variables that settings.ts reads, and settings that parse', () => {
    // SETTINGS_HELP must list everything readSettings reads, or this check would pass vacuously.
    const source = read(join(ROOT, 'services/shell/src/settings.ts'));
    const read_ = new Set([...source.matchAll(/env\.(GROKSTREAM_[A-Z0-9_]+)/g)].map((m) => m[1]!));
    for (const m of source.matchAll(/secret\('(GROKSTREAM_[A-Z0-9_]+)'\)/g)) read_.add(m[1]!).add(`${m[1]!}_FILE`);
    expect(read_.size).toBeGreaterThan(10);
    for (const v of read_) expect(SETTING_VARIABLES, `${v} is read by settings.ts but missing from SETTINGS_HELP`).toContain(v);

    for (const [name, s] of grokstreamServices(compose())) {
      const env = environmentOf(s);
      const own = Object.keys(env).filter((k) => k.startsWith('GROKSTREAM_'));
      expect(own.length, name).toBeGreaterThan(0);
      for (const k of own) expect(SETTING_VARIABLES, `${name}: ${k} is not a grokstream setting (services/shell/src/settings.ts)`).toContain(k);
      // Nothing else a grokstream process would ignore (KAFKA_*, CLICKHOUSE_*, ...).
      expect(Object.keys(env).filter((k) => !k.startsWith('GROKSTREAM_')), name).toEqual([]);
      expect(() => readSettings(env, () => '')).not.toThrow();
    }
  });

  it('gives the other containers only GROKSTREAM_* variables that a file mounted into them reads', () => {
    const c = compose();
    const grokstream = new Set(grokstreamServices(c).map(([n]) => n));
    for (const [name, s] of Object.entries(c.services)) {
      if (grokstream.has(name)) continue;
      const mounted = mountsOf(s)
        .filter((m) => m.bind && existsSync(m.source)) // a missing one fails the bind mount check
        .flatMap((m) => (statSync(m.source).isDirectory() ? readdirSync(m.source).map((f) => join(m.source, f)) : [m.source]))
        .filter((f) => statSync(f).isFile())
        .map(read)
        .join('\n');
      for (const k of Object.keys(environmentOf(s)).filter((k) => k.startsWith('GROKSTREAM_'))) {
        expect(mounted, `${name}: ${k} is set but no mounted file reads it`).toMatch(new RegExp(`(\\$\\{${k}\\}|\\$${k}\\b|from_env="${k}")`));
      }
    }
  });

  it('points ingest at the ClickHouse service HTTP port, as the writers user compose creates', () => {
    const c = compose();
    const env = environmentOf(c.services.ingest!);
    const url = new URL(env.GROKSTREAM_CLICKHOUSE_URL!);
    expect(Object.keys(c.services)).toContain(url.hostname);
    expect(url.hostname).toBe('clickhouse');
    expect(Number(url.port || (url.protocol === 'https:' ? 443 : 80))).toBe(CLICKHOUSE_HTTP_PORT);
    const ch = c.services.clickhouse!;
    expect(portsOf(ch).map((p) => p.target)).toContain(CLICKHOUSE_HTTP_PORT);
    expect(JSON.stringify(ch.healthcheck?.test)).toContain(`:${CLICKHOUSE_HTTP_PORT}/ping`);
    const chEnv = environmentOf(ch);
    expect(env.GROKSTREAM_CLICKHOUSE_USER).toBe(chEnv.CLICKHOUSE_USER);
    expect(env.GROKSTREAM_CLICKHOUSE_PASSWORD).toBe(chEnv.CLICKHOUSE_PASSWORD);
    expect(env.GROKSTREAM_CLICKHOUSE_PASSWORD).toMatch(/^test-/); // from .env, not a default
    // Also when the user is changed in .env.
    const changed = { ...testHostEnv(), GROKSTREAM_CLICKHOUSE_USER: 'writer' };
    expect(environmentOf(c.services.ingest!, changed).GROKSTREAM_CLICKHOUSE_USER).toBe(environmentOf(ch, changed).CLICKHOUSE_USER);
  });

  it('points ingest and detect at the Kafka listener for containers, and publishes one for the host', () => {
    const c = compose();
    const kafka = c.services.kafka!;
    const kenv = environmentOf(kafka);
    const listeners = (text: string) =>
      new Map(
        text.split(',').map((l) => {
          const m = /^([A-Z_]+):\/\/([^:]*):(\d+)$/.exec(l.trim())!;
          expect(m, l).toBeTruthy();
          return [m[1]!, { host: m[2]!, port: Number(m[3]) }] as const;
        }),
      );
    const bound = listeners(kenv.KAFKA_LISTENERS!);
    const advertised = listeners(kenv.KAFKA_ADVERTISED_LISTENERS!);
    const protocols = new Map(kenv.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP!.split(',').map((p) => p.split(':') as [string, string]));
    const kafkaHost = kafka.hostname ?? 'kafka';

    for (const [name, s] of grokstreamServices(c)) {
      const brokers = environmentOf(s).GROKSTREAM_KAFKA_BROKERS!.split(',');
      expect(brokers.length, name).toBeGreaterThan(0);
      for (const b of brokers) {
        const [host, port] = b.trim().split(':');
        const match = [...advertised].find(([, a]) => a.host === host && a.port === Number(port));
        expect(match, `${name}: ${b} is not an advertised listener (${kenv.KAFKA_ADVERTISED_LISTENERS})`).toBeTruthy();
        expect(['kafka', kafkaHost]).toContain(host);
        const [listener] = match!;
        expect(bound.get(listener)?.port, `${name}: listener ${listener} is advertised but not bound on ${port}`).toBe(Number(port));
        expect(protocols.get(listener), `${name}: the services connect without TLS or SASL`).toBe('PLAINTEXT');
      }
      expect(s.depends_on, name).toMatchObject({ kafka: { condition: 'service_healthy' } });
    }

    // The host listener: its advertised address is the published one, on the listener's port.
    const published = portsOf(kafka);
    expect(published.length).toBeGreaterThan(0);
    for (const p of published) {
      const listener = [...bound].find(([, l]) => l.port === p.target)?.[0];
      expect(listener, `published port ${p.target} is not a listener`).toBeTruthy();
      expect(advertised.get(listener!)).toEqual({ host: p.hostIp ?? expect.any(String), port: p.published });
    }
    // It follows a changed port.
    const moved = portsOf(kafka, { ...testHostEnv(), GROKSTREAM_KAFKA_PORT: '29092' })[0]!;
    expect(listeners(environmentOf(kafka, { ...testHostEnv(), GROKSTREAM_KAFKA_PORT: '29092' }).KAFKA_ADVERTISED_LISTENERS!).get('HOST')).toEqual({ host: '127.0.0.1', port: moved.published });

    // The KRaft controller: a listener of its own, named in controller.listener.names and the voters.
    const controller = kenv.KAFKA_CONTROLLER_LISTENER_NAMES!;
    const voter = /^1@([^:]+):(\d+)$/.exec(kenv.KAFKA_CONTROLLER_QUORUM_VOTERS!)!;
    expect(voter[1]).toBe(kafkaHost);
    expect(bound.get(controller)?.port).toBe(Number(voter[2]));
    expect(advertised.has(controller)).toBe(false);
    expect(kenv.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(kafka.image).toMatch(/^apache\/kafka:4\./);
  });

  it('starts ingest and detect after healthy Kafka and ClickHouse, and restarts them', () => {
    const c = compose();
    expect(c.services.ingest!.depends_on).toEqual({ kafka: { condition: 'service_healthy' }, clickhouse: { condition: 'service_healthy' } });
    expect(c.services.detect!.depends_on).toEqual({ kafka: { condition: 'service_healthy' } });
    for (const dep of ['kafka', 'clickhouse']) expect(c.services[dep]!.healthcheck?.test, dep).toBeTruthy();
    for (const [name, s] of grokstreamServices(c)) expect(s.restart, name).toBe('unless-stopped');
  });

  it('requires every password (${VAR:?message}), lists each in .env.example without a value, and keeps .env out of git and images', () => {
    const text = read(COMPOSE_FILE);
    const passwords = references(text).filter((r) => /PASSWORD/.test(r.name));
    expect(new Set(passwords.map((r) => r.name))).toEqual(
      new Set(['GROKSTREAM_CLICKHOUSE_PASSWORD', 'GROKSTREAM_CLICKHOUSE_READER_PASSWORD', 'GROKSTREAM_GRAFANA_ADMIN_PASSWORD']),
    );
    for (const r of passwords) {
      expect(r.op, `${r.name} must be required: \${${r.name}:?message}`).toBe(':?');
      expect(r.word, r.name).toContain(r.name);
      expect(r.word, r.name).toContain('.env');
    }
    const example = envExample();
    for (const r of passwords) expect(example[r.name], `.env.example: ${r.name}`).toBe('');
    // Every required variable is in .env.example; the rest have defaults.
    for (const r of references(text)) if (r.op === '' && r.name !== '') expect.fail(`\${${r.name}} has neither a default nor :?`);
    for (const r of references(text).filter((r) => r.op.includes('?'))) expect(Object.keys(example)).toContain(r.name);
    // Without them compose's interpolation fails, naming the variable.
    const c = compose();
    expect(() => environmentOf(c.services.ingest!, {})).toThrow(/GROKSTREAM_CLICKHOUSE_PASSWORD/);
    expect(() => environmentOf(c.services.grafana!, {})).toThrow(/GROKSTREAM_(GRAFANA_ADMIN|CLICKHOUSE_READER)_PASSWORD/);
    expect(read(join(ROOT, '.gitignore')).split('\n')).toContain('deploy/compose/.env');
    expect(read(join(ROOT, '.dockerignore')).split('\n')).toContain('**/.env');
  });

  it('publishes Kafka and ClickHouse on loopback only', () => {
    const c = compose();
    for (const name of ['kafka', 'clickhouse']) for (const p of portsOf(c.services[name]!)) expect(p.hostIp, name).toBe('127.0.0.1');
    expect(portsOf(c.services.grafana!).map((p) => p.target)).toEqual([3000]);
  });
});

describe('deploy/compose/clickhouse/users.d/grokstream-reader.xml', () => {
  const xml = read(READER_XML);

  it('makes grokstream_reader with a readonly=2 profile and its password from the environment', () => {
    expect(element(xml, 'clickhouse'), 'root element <clickhouse>').toBeTruthy();
    const user = at(xml, 'clickhouse', 'users', 'grokstream_reader');
    expect(user, 'users/grokstream_reader').toBeTruthy();
    const profile = element(user!.inner, 'profile')?.inner.trim();
    expect(profile).toBeTruthy();
    const settings = at(xml, 'clickhouse', 'profiles', profile!);
    expect(settings, `profiles/${profile}`).toBeTruthy();
    expect(element(settings!.inner, 'readonly')?.inner.trim()).toBe('2');
    const password = element(user!.inner, 'password');
    expect(password?.attrs).toMatch(/\bfrom_env="GROKSTREAM_CLICKHOUSE_READER_PASSWORD"/);
    expect(password?.inner.trim()).toBe('');
    expect(user!.inner).not.toMatch(/<password_(sha256|double_sha1)_hex>/);
  });

  it('is mounted into the ClickHouse container users.d, which gets the password variable', () => {
    const ch = compose().services.clickhouse!;
    expect(mountsOf(ch)).toContainEqual({ source: READER_XML, target: '/etc/clickhouse-server/users.d/grokstream-reader.xml', bind: true });
    expect(environmentOf(ch).GROKSTREAM_CLICKHOUSE_READER_PASSWORD).toBe('test-grokstream_clickhouse_reader_password');
  });
});

describe('deploy/grafana/provisioning', () => {
  interface Datasource {
    name: string;
    uid: string;
    type: string;
    jsonData: Record<string, unknown>;
    secureJsonData: Record<string, unknown>;
  }
  const grafana = () => compose().services.grafana!;

  it('has the ClickHouse data source the dashboards use, read-only, reaching the clickhouse service', () => {
    const { datasources } = parseYaml<{ apiVersion: number; datasources: Datasource[] }>(DATASOURCE_FILE);
    expect(datasources).toHaveLength(1);
    const ds = datasources[0]!;
    expect(ds.uid).toBe('grokstream-clickhouse');
    expect(ds.name).toBe('grokstream ClickHouse');
    expect(ds.type).toBe('grafana-clickhouse-datasource');
    const env = environmentOf(grafana());
    const value = (v: unknown) => grafanaExpand(String(v), env);
    // Settings of the plugin's v4 (host, not the v3 "server").
    expect(ds.jsonData).not.toHaveProperty('server');
    expect(value(ds.jsonData.host)).toBe('clickhouse');
    expect(Object.keys(compose().services)).toContain(value(ds.jsonData.host));
    const protocol = value(ds.jsonData.protocol);
    expect(['http', 'native']).toContain(protocol);
    const port = Number(value(ds.jsonData.port));
    expect(port).toBe(protocol === 'http' ? CLICKHOUSE_HTTP_PORT : CLICKHOUSE_NATIVE_PORT);
    expect(value(ds.jsonData.username)).toBe('grokstream_reader');
    expect(at(read(READER_XML), 'clickhouse', 'users', value(ds.jsonData.username))).toBeTruthy();
    expect(value(ds.secureJsonData.password)).toBe(environmentOf(compose().services.clickhouse!).GROKSTREAM_CLICKHOUSE_READER_PASSWORD);
    expect(value(ds.jsonData.defaultDatabase)).toBe(environmentOf(compose().services.ingest!).GROKSTREAM_DATABASE);
    // A variable Grafana is not given would silently become empty.
    for (const v of [ds.jsonData.host, ds.jsonData.port, ds.jsonData.defaultDatabase, ds.secureJsonData.password]) expect(value(v), String(v)).not.toBe('');
  });

  it('installs the plugin and mounts the provisioning where Grafana reads it', () => {
    const env = environmentOf(grafana());
    expect(`${env.GF_PLUGINS_PREINSTALL_SYNC ?? ''},${env.GF_INSTALL_PLUGINS ?? ''}`.split(',')).toContain('grafana-clickhouse-datasource');
    const mounts = mountsOf(grafana());
    expect(mounts).toContainEqual({ source: dirname(DATASOURCE_FILE), target: '/etc/grafana/provisioning/datasources', bind: true });
    expect(mounts).toContainEqual({ source: dirname(DASHBOARDS_FILE), target: '/etc/grafana/provisioning/dashboards', bind: true });
    expect(grafana().image).toMatch(/^grafana\/grafana:\d/);
  });

  it('provisions the dashboards from where compose mounts the repository dashboards/ folder', () => {
    const { providers } = parseYaml<{ providers: { type: string; folder: string; disableDeletion: boolean; updateIntervalSeconds: number; allowUiUpdates: boolean; options: { path: string; foldersFromFilesStructure: boolean } }[] }>(DASHBOARDS_FILE);
    expect(providers).toHaveLength(1);
    const p = providers[0]!;
    expect(p.type).toBe('file');
    expect(p.folder).toBe('grokstream');
    expect(p.options.foldersFromFilesStructure).toBe(false);
    expect(p.options.path).toBe('/var/lib/grafana/dashboards/grokstream');
    expect(p.updateIntervalSeconds).toBeGreaterThan(0);
    expect(p.disableDeletion).toBe(false);
    const mount = mountsOf(grafana()).find((m) => m.source === join(ROOT, 'dashboards'));
    expect(mount, 'compose mounts dashboards/ into Grafana').toBeTruthy();
    expect(mount!.target).toBe(p.options.path);
    const spec = grafana().volumes!.find((v) => typeof v === 'string' && v.includes('dashboards:/var/lib'));
    expect(spec, 'dashboards/ is mounted read-only').toMatch(/:ro$/);
  });
});

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = read(join(ROOT, 'Dockerfile'));
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'));

  it('builds on Node 20 and runs the grokstream command', () => {
    const from = instructions.filter((l) => /^FROM\s/i.test(l));
    expect(from.length).toBeGreaterThan(0);
    expect(from.at(-1)).toMatch(/^FROM\s+(docker\.io\/(library\/)?)?node:20([-.]\S*)?(\s|$)/i);
    const entrypoint = instructions.find((l) => /^ENTRYPOINT\s/i.test(l));
    const argv = JSON.parse(entrypoint!.replace(/^ENTRYPOINT\s+/i, '')) as string[];
    expect(argv[0]).toBe('node');
    expect(existsSync(join(ROOT, argv[1]!)), argv[1]).toBe(true);
    expect(argv[1]).toBe(JSON.parse(read(join(ROOT, 'services/cli/package.json'))).bin.grokstream.replace(/^\.\//, 'services/cli/'));
  });

  it('installs the locked dependencies with the pnpm of packageManager', () => {
    expect(dockerfile).toMatch(/pnpm install[^\n]*--frozen-lockfile/);
    const pinned = /pnpm@(\d+\.\d+\.\d+)/.exec(dockerfile)?.[1];
    expect(`pnpm@${pinned}`).toBe(JSON.parse(read(join(ROOT, 'package.json'))).packageManager);
  });

  it('leaves node_modules, local state and version control out of the build context', () => {
    const ignored = read(join(ROOT, '.dockerignore'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignored, 'every node_modules: the workspace packages have their own').toContain('**/node_modules');
    for (const p of ['.git', '.grokstream', 'bench-results']) expect(ignored).toContain(p);
    // Nothing the image needs is ignored.
    for (const needed of ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', 'services', 'schemas']) expect(ignored).not.toContain(needed);
  });
});
