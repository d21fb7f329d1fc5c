// The services as a user runs them, as child processes of the test: `grokstream run|detect|...`
// and the ingest process. Output is captured in memory and in a log file per process (case 7
// greps every one of them for secrets); every process is registered so afterAll can SIGKILL
// whatever is still alive, also when a test failed half-way.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { BROKERS, CLICKHOUSE_URL, LOG_DIR, REPO, WORK_DIR, childEnv } from './env.ts';

export const CLI = join(REPO, 'services/cli/bin/grokstream.js');
export const INGEST_MAIN = join(REPO, 'services/ingest/src/main.ts');
export const GROKKING_CONFIG = join(REPO, 'examples/modular-addition-grokking.yaml');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Wall time from spawn to exit. */
  ms: number;
}

const live = new Set<Proc>();
// Should the test process end without afterAll (a crash, a worker torn down), take the children along.
process.once('exit', () => {
  for (const p of live) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export class Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly startedAt = Date.now();
  readonly logFile: string;
  readonly exit: Promise<Exit>;
  private out = '';
  private exitInfo: Exit | undefined;
  private readonly log: WriteStream;

  constructor(
    readonly name: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    caseName: string,
  ) {
    const dir = join(LOG_DIR, caseName);
    mkdirSync(dir, { recursive: true });
    this.logFile = join(dir, `${name}-${this.startedAt}.log`);
    this.log = createWriteStream(this.logFile);
    this.log.write(`$ node ${args.join(' ')}\n`);
    this.child = spawn(process.execPath, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (this.child.pid === undefined) throw new Error(`could not spawn ${name}: node ${args.join(' ')}`);
    this.pid = this.child.pid;
    const onData = (d: Buffer) => {
      this.out += d.toString('utf8');
      this.log.write(d);
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    live.add(this);
    this.exit = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.exitInfo = { code, signal, ms: Date.now() - this.startedAt };
        live.delete(this);
        this.log.end(`\n[faults] exit code ${code} signal ${signal} after ${this.exitInfo.ms} ms\n`);
        resolve(this.exitInfo);
      });
    });
  }

  get output(): string {
    return this.out;
  }

  get exited(): Exit | undefined {
    return this.exitInfo;
  }

  /** Waits until the output matches (bounded); fails with the output's tail and the exit if it died. */
  async waitFor(re: RegExp, what: string, limitMs: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const m = re.exec(this.out);
      if (m) return m;
      if (this.exitInfo) throw new Error(`${this.name} exited (code ${this.exitInfo.code}, signal ${this.exitInfo.signal}) before ${what}:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for ${what} from ${this.name}:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits for the exit (bounded); undefined when it is still running after limitMs. */
  async waitExit(limitMs: number): Promise<Exit | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), limitMs)));
    try {
      return await Promise.race([this.exit, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exitInfo) this.child.kill(signal);
  }

  /** SIGKILL and wait for the exit (bounded). */
  async killHard(): Promise<void> {
    this.kill('SIGKILL');
    await this.waitExit(10_000);
  }

  tail(chars = 3000): string {
    return this.out.slice(-chars);
  }
}

/** SIGKILLs every process the suite started that is still alive; for afterAll. */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.killHard()));
}

export function spawnCli(caseName: string, name: string, args: string[], env: Record<string, string | undefined> = {}): Proc {
  return new Proc(name, [CLI, ...args], childEnv(env), caseName);
}

export interface TrainerOptions {
  /** Dotted overrides after the config file. */
  overrides?: string[];
  resume?: string;
  checkpointDir: string;
  extraArgs?: string[];
  name?: string;
}

/** `grokstream run` of the grokking example on the private Kafka, progress every 10 steps. */
export function spawnTrainer(caseName: string, o: TrainerOptions): Proc {
  const args = [
    'run',
    GROKKING_CONFIG,
    'probes.every=0',
    'run.log_every=10',
    `run.checkpoint.dir=${o.checkpointDir}`,
    ...(o.overrides ?? []),
    '--kafka',
    BROKERS,
    ...(o.resume ? ['--resume', o.resume] : []),
    ...(o.extraArgs ?? []),
  ];
  return spawnCli(caseName, o.name ?? 'trainer', args);
}

/** The run id a trainer prints at start ("run ID: (a + b) mod 59 ..."). */
export async function trainerRunId(p: Proc, limitMs = 120_000): Promise<string> {
  return (await p.waitFor(/run (\S+): \(a [+-] b\)/, 'the run id', limitMs))[1]!;
}

/** The last step a trainer reported in its progress lines (run.log_every=10), or 0. */
export function trainerStep(p: Proc): number {
  const all = [...p.output.matchAll(/step +(\d+)\/\d+/g)];
  return all.length === 0 ? 0 : Number(all[all.length - 1]![1]);
}

export interface IngestOptions {
  database: string;
  group: string;
  name?: string;
  env?: Record<string, string | undefined>;
}

/**
 * The ingest process, private Kafka -> private ClickHouse, configured by the environment:
 * `node --import tsx services/ingest/src/main.ts` where that entry point exists, else the
 * `grokstream ingest` command that replaces it.
 */
export function spawnIngest(caseName: string, o: IngestOptions): Proc {
  const env = childEnv({
    GROKSTREAM_KAFKA_BROKERS: BROKERS,
    GROKSTREAM_STORE: 'clickhouse',
    GROKSTREAM_CLICKHOUSE_URL: CLICKHOUSE_URL,
    GROKSTREAM_DATABASE: o.database,
    GROKSTREAM_INGEST_GROUP: o.group,
    ...o.env,
  });
  const args = existsSync(INGEST_MAIN) ? ['--import', 'tsx', INGEST_MAIN] : [CLI, 'ingest', '--kafka', BROKERS];
  return new Proc(o.name ?? 'ingest', args, env, caseName);
}

export async function ingestReady(p: Proc, limitMs = 90_000): Promise<void> {
  await p.waitFor(/ingest: \S+ -> clickhouse/i, 'the ingest process to start', limitMs);
}

/** A detector config with a name of its own (its consumer group and PhaseChanged.detector). */
export function writeDetectorConfig(caseName: string, detectorName: string, extraYaml = ''): string {
  const dir = join(WORK_DIR, caseName);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${detectorName}.yaml`);
  writeFileSync(file, `detector:\n  name: ${detectorName}\n  version: "1"\n${extraYaml}`);
  return file;
}

export function spawnDetector(caseName: string, configFile: string, name = 'detector'): Proc {
  return spawnCli(caseName, name, ['detect', '--detector', configFile, '--kafka', BROKERS]);
}

export async function detectorReady(p: Proc, limitMs = 90_000): Promise<void> {
  await p.waitFor(/detector \S+ \S+: consuming/, 'the detector to join its group', limitMs);
}

export function caseDir(caseName: string, ...sub: string[]): string {
  const dir = join(WORK_DIR, caseName, ...sub);
  mkdirSync(dir, { recursive: true });
  return dir;
}
