// Global setup of the projects whose tests need Kafka and ClickHouse (vitest.config.ts): the local
// stack of deploy/local (127.0.0.1:19092, http://127.0.0.1:18123), started when it is not
// running, so `pnpm test` works on a fresh clone without `pnpm stack:up` first.
//
// - Both services answer: nothing to do (a stack you started stays as it is).
// - A service of the local stack is stopped: the tests start it with deploy/local's own scripts
//   (`stack.sh up`, which on a fresh Debian machine installs ClickHouse, Java and the Kafka jars
//   first), and stop it again when they end, unless GROKSTREAM_KEEP_STACK=1. Only what this setup
//   started is ever stopped, by those scripts (pid files), never by name.
// - GROKSTREAM_KAFKA_BROKERS / GROKSTREAM_CLICKHOUSE_URL point elsewhere and do not answer:
//   starting the local stack would not help, so the run fails and says so (never a skip).
//
// When unset, GROKSTREAM_KAFKA_BROKERS and GROKSTREAM_CLICKHOUSE_URL are set here to the stack's
// addresses; vitest builds its workers' environment from process.env after the global setups
// ran, so the tests and every process they spawn see them. Every wait is bounded.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join, relative, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..');
/** A fresh Debian machine apt-installs ClickHouse and Java and downloads the Kafka jars first. */
const START_LIMIT_MS = 15 * 60_000;
/** Each stop: SIGTERM, up to 30 s, then SIGKILL; both services one after the other. */
const STOP_LIMIT_MS = 2 * 60_000;
const STATUS_LIMIT_MS = 30_000;
/** After a successful start, or for a stack process that runs (someone else started it) but does not answer yet. */
const ANSWER_LIMIT_MS = 120_000;
const PREFIX = 'stack | ';

type Service = 'clickhouse' | 'kafka';
const NAME: Record<Service, string> = { clickhouse: 'ClickHouse', kafka: 'Kafka' };
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost']);

const env = process.env;
const port = (name: string, fallback: number) => Number(env[name] || fallback);
/** The ports deploy/local/lib.sh uses, from the same variables. */
const KAFKA_PORT = port('GROKSTREAM_KAFKA_PORT', 19092);
const KAFKA_CLIENT_PORTS = new Set([KAFKA_PORT, port('GROKSTREAM_KAFKA_SASL_PORT', 19094), port('GROKSTREAM_KAFKA_SSL_PORT', 19095)]);
const CLICKHOUSE_HTTP_PORT = port('GROKSTREAM_CLICKHOUSE_HTTP_PORT', 18123);
const STACK_DIR = resolve(REPO, env.GROKSTREAM_STACK_DIR || join('.grokstream', 'stack'));
const LOGS = `${rel(join(STACK_DIR, 'clickhouse', 'logs'))}/ and ${rel(join(STACK_DIR, 'kafka', 'logs'))}/`;

/** What this setup started (and so what teardown stops), in start order. */
let started: Service[] = [];
const keep = () => env.GROKSTREAM_KEEP_STACK === '1';

export async function setup(): Promise<void> {
  if (!env.GROKSTREAM_KAFKA_BROKERS) env.GROKSTREAM_KAFKA_BROKERS = `127.0.0.1:${KAFKA_PORT}`;
  if (!env.GROKSTREAM_CLICKHOUSE_URL) env.GROKSTREAM_CLICKHOUSE_URL = `http://127.0.0.1:${CLICKHOUSE_HTTP_PORT}`;
  const kafka = env.GROKSTREAM_KAFKA_BROKERS.split(',')[0]!.trim();
  const clickhouse = new URL(env.GROKSTREAM_CLICKHOUSE_URL);
  const where: Record<Service, string> = { clickhouse: shown(clickhouse), kafka };
  const asIs = `local stack: Kafka (${where.kafka}) and ClickHouse (${where.clickhouse}) answer; the tests use them as they are`;
  const answers = (s: Service) => (s === 'kafka' ? kafkaAnswers(kafka) : clickHouseAnswers(clickhouse));

  const down: Service[] = [];
  for (const s of ['clickhouse', 'kafka'] as const) if (!(await answers(s))) down.push(s);
  if (down.length === 0) {
    console.log(asIs);
    return;
  }

  // Only the local stack's addresses can be helped by starting the local stack.
  const local: Record<Service, boolean> = {
    kafka: isLocal(kafka, KAFKA_CLIENT_PORTS),
    clickhouse: LOCAL_HOSTS.has(clickhouse.hostname) && Number(clickhouse.port || 80) === CLICKHOUSE_HTTP_PORT,
  };
  const elsewhere = down.filter((s) => !local[s]);
  if (elsewhere.length > 0) {
    throw new Error(
      elsewhere
        .map((s) => `${NAME[s]} does not answer at ${where[s]} (${s === 'kafka' ? 'GROKSTREAM_KAFKA_BROKERS' : 'GROKSTREAM_CLICKHOUSE_URL'}), which is not the local stack's address, so the tests do not start the local stack for it.`)
        .join('\n') + '\nStart that service, or unset the variable to use the local stack (deploy/local/README.md).',
    );
  }

  // A stack process that runs but does not answer (yet) is somebody else's: wait for it, never start or stop it.
  const toStart: Service[] = [];
  for (const s of down) {
    const status = await run(['bash', `deploy/local/${s}.sh`, 'status'], STATUS_LIMIT_MS);
    if (status.code === 3) toStart.push(s);
    else if (status.code === 0 || status.code === 1) {
      if (!(await waitAnswers(() => answers(s), ANSWER_LIMIT_MS))) {
        throw new Error(
          `${NAME[s]} of the local stack runs but does not answer at ${where[s]} after ${ANSWER_LIMIT_MS / 1000} s; the tests did not start it ` +
            `and leave it alone. \`bash deploy/local/${s}.sh status\` says:\n${status.output.trim()}\nLogs: ${LOGS}. Restart it: pnpm stack:down && pnpm stack:up`,
        );
      }
    } else {
      throw new Error(`\`bash deploy/local/${s}.sh status\` failed (exit ${status.code}):\n${status.output.trim()}`);
    }
  }
  if (toStart.length === 0) {
    console.log(asIs);
    return;
  }

  const both = toStart.length === 2;
  const command = both ? ['bash', 'deploy/local/stack.sh', 'up'] : ['bash', `deploy/local/${toStart[0]}.sh`, 'start'];
  const names = toStart.map((s) => NAME[s]).join(' and ');
  console.log(
    `local stack: ${names} not running: the tests start ${both ? 'the stack' : 'it'} now (${command.join(' ')}) and ` +
      (keep() ? 'leave it running (GROKSTREAM_KEEP_STACK=1)' : 'stop it at the end (GROKSTREAM_KEEP_STACK=1 keeps it)'),
  );
  started = toStart;
  if (!keep()) armWatchdog(toStart);

  const t0 = Date.now();
  const res = await run(command, START_LIMIT_MS, PREFIX);
  const failed = res.timedOut
    ? `did not finish within ${START_LIMIT_MS / 60_000} min and was killed`
    : res.code !== 0
      ? `failed (exit ${res.code ?? res.signal})`
      : undefined;
  const silent = failed ? [] : await Promise.all(toStart.map(async (s) => ((await waitAnswers(() => answers(s), ANSWER_LIMIT_MS)) ? undefined : s)));
  const notAnswering = silent.filter((s): s is Service => s !== undefined);
  if (failed || notAnswering.length > 0) {
    const what = failed
      ? `\`${command.join(' ')}\` ${failed}`
      : `\`${command.join(' ')}\` succeeded but ${notAnswering.map((s) => `${NAME[s]} does not answer at ${where[s]}`).join(' and ')} after ${ANSWER_LIMIT_MS / 1000} s`;
    await teardown();
    throw new Error(
      `The tests could not start the local stack: ${what}. Its output is above (lines starting "${PREFIX.trim()}"); ` +
        `the service logs are in ${LOGS} (deploy/local/README.md, Troubleshooting). Last lines:\n${tail(res.output, 30)}`,
    );
  }
  console.log(`local stack: ${names} started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

export async function teardown(): Promise<void> {
  const stopping = started;
  started = [];
  disarmWatchdog();
  if (stopping.length === 0) return;
  if (keep()) return; // the line at the start said so
  // Quiet when it works: the summary reporter's count stays the last line of the run.
  const command = stopCommand(stopping);
  const res = await run(command, STOP_LIMIT_MS);
  if (res.code !== 0) {
    console.error(
      `local stack: WARNING: \`${command.join(' ')}\` ${res.timedOut ? 'timed out' : `failed (exit ${res.code ?? res.signal})`}; ` +
        `check with pnpm stack:status. Its output:\n${tail(res.output, 30)}`,
    );
  }
}

/** Kafka first, as stack.sh down does; only what we started. */
function stopCommand(services: Service[]): string[] {
  return services.length === 2 ? ['bash', 'deploy/local/stack.sh', 'down'] : ['bash', `deploy/local/${services[0]}.sh`, 'stop'];
}

/**
 * vitest exits on Ctrl-C or SIGTERM without running teardown, and a SIGKILL stops everything: a
 * small detached watcher stops what we started once this process is gone, unless teardown
 * disarmed it first. Its output goes to tests-watchdog.log in the stack dir.
 */
let watchdog: number | undefined;
function armWatchdog(services: Service[]): void {
  mkdirSync(STACK_DIR, { recursive: true });
  const log = openSync(join(STACK_DIR, 'tests-watchdog.log'), 'a');
  const script =
    'pid=$1; shift; while kill -0 "$pid" 2>/dev/null; do sleep 1; done; ' +
    'echo "$(date -Is) the test run (pid $pid) ended before its teardown: $*"; exec timeout --kill-after=10s 120 "$@"';
  // detached: its own session, so the Ctrl-C or SIGTERM that ends vitest does not reach it.
  const child = spawn('bash', ['-c', script, 'stack-watchdog', String(process.pid), ...stopCommand(services)], {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  child.unref();
  watchdog = child.pid;
}

function disarmWatchdog(): void {
  if (watchdog === undefined) return;
  // Its session's group: the loop and its sleep, nothing else.
  kill([-watchdog], 'SIGKILL');
  watchdog = undefined;
}

function isLocal(broker: string, ports: Set<number>): boolean {
  const i = broker.lastIndexOf(':');
  return i > 0 && LOCAL_HOSTS.has(broker.slice(0, i)) && ports.has(Number(broker.slice(i + 1)));
}

/** The URL as it may be printed: no password. */
function shown(url: URL): string {
  return `${url.protocol}//${url.username ? `${url.username}:***@` : ''}${url.host}`;
}

function rel(path: string): string {
  const r = relative(REPO, path);
  return r.startsWith('..') ? path : r;
}

function kafkaAnswers(broker: string): Promise<boolean> {
  const i = broker.lastIndexOf(':');
  const host = broker.slice(0, i).replace(/^\[|\]$/g, '');
  return new Promise((done) => {
    const socket = connect({ host, port: Number(broker.slice(i + 1)), timeout: 3000 });
    const end = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.once('connect', () => end(true));
    socket.once('timeout', () => end(false));
    socket.once('error', () => end(false));
  });
}

async function clickHouseAnswers(url: URL): Promise<boolean> {
  try {
    // origin: without the credentials, which fetch refuses in a URL (/ping needs none).
    const res = await fetch(`${url.origin}/ping`, { signal: AbortSignal.timeout(3000) });
    return res.ok && (await res.text()).trim() === 'Ok.';
  } catch {
    return false;
  }
}

async function waitAnswers(answers: () => Promise<boolean>, limitMs: number): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (!(await answers())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 500));
  }
  return true;
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
}

/**
 * Runs a command from the repo root, bounded: past the limit it and everything it started
 * (apt-get, mvn, a server still starting) get SIGTERM, then SIGKILL. With a prefix, its output is
 * streamed line by line. It stays in vitest's process group, so a Ctrl-C reaches it too.
 */
function run(command: string[], limitMs: number, prefix?: string): Promise<RunResult> {
  return new Promise((done) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let partial = '';
    const onData = (d: Buffer) => {
      const text = d.toString();
      output += text;
      if (output.length > 200_000) output = output.slice(-100_000);
      if (!prefix) return;
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      for (const line of lines) process.stdout.write(`${prefix}${line}\n`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    let timedOut = false;
    let hardStop: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      const tree = [child.pid!, ...descendants(child.pid!)];
      kill(tree, 'SIGTERM');
      setTimeout(() => kill(tree, 'SIGKILL'), 10_000).unref();
      // Should a grandchild still hold the pipes, do not wait for them forever.
      hardStop = setTimeout(() => finish(null, 'SIGKILL'), 20_000);
    }, limitMs);
    let finished = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(hardStop);
      if (prefix && partial) process.stdout.write(`${prefix}${partial}\n`);
      done({ code, signal, output, timedOut });
    };
    child.on('error', (err) => {
      output += `\n${err.message}`;
      finish(null, null);
    });
    child.on('close', finish);
  });
}

/** Every process below pid, from /proc (the stack is Linux only). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function kill(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
