// The private Kafka and ClickHouse of the fault suite: started with deploy/local's own scripts
// (other ports, own stack dir), SIGKILLed by the PID in that dir's pid file, restarted with the
// same script and environment. Every wait is bounded; a service that cannot start is a failure
// that says why (never a skip, in CI or not).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLICKHOUSE_URL, KAFKA_PORT, REPO, STACK_DIR, STACK_ENV } from './env.ts';

export type Service = 'kafka' | 'clickhouse';

const SCRIPT: Record<Service, string> = {
  kafka: join(REPO, 'deploy/local/kafka.sh'),
  clickhouse: join(REPO, 'deploy/local/clickhouse.sh'),
};
const PIDFILE: Record<Service, string> = {
  kafka: join(STACK_DIR, 'kafka', 'kafka.pid'),
  clickhouse: join(STACK_DIR, 'clickhouse', 'clickhouse.pid'),
};
/** What the service's command line must contain for us to touch it: its config in OUR stack dir. */
const OURS: Record<Service, string> = {
  kafka: join(STACK_DIR, 'kafka', 'server.properties'),
  clickhouse: `--config-file=${join(STACK_DIR, 'clickhouse', 'config.xml')}`,
};
const START_LIMIT_MS: Record<Service, number> = { kafka: 150_000, clickhouse: 90_000 };

export interface ScriptResult {
  code: number | null;
  output: string;
  ms: number;
}

/** Runs deploy/local/<service>.sh <command> with the private environment, bounded. */
export function script(service: Service, command: 'start' | 'stop' | 'status', limitMs = START_LIMIT_MS[service]): Promise<ScriptResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn('bash', [SCRIPT[service], command], {
      cwd: REPO,
      env: { ...process.env, ...STACK_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      output += `\n[faults] ${service}.sh ${command} still running after ${limitMs} ms: killed`;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: Date.now() - t0 });
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A killed server is reparented to init; until it is reaped it is a zombie, which is dead.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** The PID of OUR service from its pid file, when that process is alive and is ours; else undefined. */
export function servicePid(service: Service): number | undefined {
  const file = PIDFILE[service];
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) return undefined;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return undefined;
  }
  return cmdline.includes(OURS[service]) ? pid : undefined;
}

/** Starts the service unless it runs (the script is a no-op then); throws with its output on failure. */
export async function startService(service: Service): Promise<ScriptResult> {
  const res = await script(service, 'start');
  if (res.code !== 0 || servicePid(service) === undefined) {
    throw new Error(
      `the fault suite's private ${service} did not start (deploy/local/${service}.sh start, exit ${res.code}, ` +
        `stack dir ${STACK_DIR}):\n${res.output.slice(-4000)}`,
    );
  }
  await waitHealthy(service, 30_000);
  return res;
}

/** SIGKILLs our service by the PID in its pid file and waits (bounded) until it is gone. */
export async function killService(service: Service): Promise<number> {
  const pid = servicePid(service);
  if (pid === undefined) throw new Error(`cannot kill the private ${service}: no live process of ours in ${PIDFILE[service]}`);
  process.kill(pid, 'SIGKILL');
  const deadline = Date.now() + 15_000;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`the private ${service} (pid ${pid}) is still alive 15 s after SIGKILL`);
    await sleep(50);
  }
  return pid;
}

/** Kafka accepts connections and ClickHouse answers /ping. */
export async function healthy(service: Service): Promise<boolean> {
  if (service === 'clickhouse') {
    try {
      const res = await fetch(`${CLICKHOUSE_URL}/ping`, { signal: AbortSignal.timeout(2000) });
      return res.ok && (await res.text()).trim() === 'Ok.';
    } catch {
      return false;
    }
  }
  const net = await import('node:net');
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: KAFKA_PORT, timeout: 2000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

async function waitHealthy(service: Service, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await healthy(service))) {
    if (Date.now() > deadline) throw new Error(`the private ${service} is running but not healthy after ${limitMs} ms`);
    await sleep(200);
  }
}

/** Both services up (idempotent). The first call in a process also says where they are. */
export async function ensureStack(): Promise<void> {
  await startService('clickhouse');
  await startService('kafka');
}

/** Stops both (graceful, the scripts' own stop), Kafka first. Used by the global teardown. */
export async function stopStack(): Promise<string> {
  const k = await script('kafka', 'stop', 60_000);
  const c = await script('clickhouse', 'stop', 60_000);
  return `${k.output}${c.output}`;
}

/** A fresh stack dir when nothing of ours runs in it (the documented reset: delete the dir). */
export function resetStackDirIfStopped(): boolean {
  if (servicePid('kafka') !== undefined || servicePid('clickhouse') !== undefined) return false;
  if (!STACK_DIR.includes(`${join('.grokstream', 'faults-stack')}`)) throw new Error(`refusing to delete ${STACK_DIR}`);
  rmSync(STACK_DIR, { recursive: true, force: true });
  return true;
}

export interface Outage {
  service: Service;
  pid: number;
  killedAt: number;
  /** When the restart script returned with the service healthy again. */
  restartedAt: number;
  /** From the kill until healthy again (the planned outage plus the restart). */
  downMs: number;
  restartMs: number;
}

/**
 * SIGKILL the service, keep it down for `downMs`, then start it again with the same script and
 * environment. `during` runs while it is down (e.g. to watch the trainer keep training).
 */
export async function outage(service: Service, downMs: number, during?: () => Promise<void>): Promise<Outage> {
  const pid = await killService(service);
  const killedAt = Date.now();
  await Promise.all([sleep(downMs), during?.()]);
  const res = await startService(service);
  const restartedAt = Date.now();
  return { service, pid, killedAt, restartedAt, downMs: restartedAt - killedAt, restartMs: res.ms };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
