// Trainer processes for `grokstream sweep --workers N` (embedded): N children forked from
// bin/sweep-trainer.js, each training one job at a time on this process's in-process bus through
// a RemoteBusHost, so the one detector here stops runs across the whole sweep and the one store
// here takes every run's events. A child that dies fails its job (and is replaced for the next);
// nothing else is lost, since its events went to the bus as it trained.
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { processChannel, RemoteBusHost, type Bus, type BusChannel } from '@grokstream/bus';
import type { StepMetrics } from '@grokstream/schemas';
import type { RunSummary } from '@grokstream/trainer';
import { isTrainerMessage, type FromTrainer, type ToTrainer, type TrainJob } from './trainer-messages.ts';

const ENTRY = join(import.meta.dirname, '..', 'bin', 'sweep-trainer.js');
/** How long a child may take to load (tsx, the trainer) before the pool gives up on it. */
const READY_TIMEOUT_MS = 120_000;

export interface JobHooks {
  onStep?: (m: StepMetrics, rate: number) => void;
  log?: (line: string) => void;
}

interface Child {
  proc: ChildProcess;
  channel: BusChannel;
  host: RemoteBusHost;
  busy: { job: TrainJob; hooks: JobHooks; resolve: (s: RunSummary) => void; reject: (e: Error) => void } | undefined;
}

export interface TrainerPoolOptions {
  size: number;
  bus: Bus;
  log: (line: string) => void;
  /** Extra environment for the children. */
  env?: NodeJS.ProcessEnv;
}

export class TrainerPool {
  private readonly children: Child[] = [];
  private readonly waiting: Array<() => void> = [];
  private nextJob = 1;
  private closing = false;

  constructor(private readonly o: TrainerPoolOptions) {}

  /** Forks the trainers and waits until each has loaded. */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.o.size }, () => this.spawn()));
  }

  get size(): number {
    return this.children.length;
  }

  /** The trainers' process ids. */
  pids(): number[] {
    return this.children.map((c) => c.proc.pid!);
  }

  /** Trains a job on the next free trainer; resolves with its summary. */
  async train(job: Omit<TrainJob, 'job'>, hooks: JobHooks = {}): Promise<RunSummary> {
    for (;;) {
      if (this.closing) throw new Error('the trainer pool is closed');
      const free = this.children.find((c) => !c.busy);
      if (free) {
        const full: TrainJob = { ...job, job: this.nextJob++ };
        return new Promise<RunSummary>((resolve, reject) => {
          free.busy = { job: full, hooks, resolve, reject };
          this.send(free, { k: 'train', job: full });
        });
      }
      await new Promise<void>((r) => this.waiting.push(r));
    }
  }

  /** Every trainer stops its run at the next step boundary (Ctrl-C). */
  interrupt(): void {
    for (const c of this.children) this.send(c, { k: 'interrupt' });
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const w of this.waiting.splice(0)) w();
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve();
            const kill = setTimeout(() => c.proc.kill('SIGKILL'), 15_000);
            c.proc.once('exit', () => (clearTimeout(kill), resolve()));
            this.send(c, { k: 'exit' });
          }),
      ),
    );
    await Promise.all(this.children.map((c) => c.host.end()));
  }

  private send(c: Child, m: ToTrainer): void {
    c.channel.post(m);
  }

  private spawn(): Promise<void> {
    const cores = availableParallelism();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // N trainers share the cores: native TensorFlow gets its share of threads each.
      TF_NUM_INTRAOP_THREADS: process.env.TF_NUM_INTRAOP_THREADS ?? String(Math.max(1, Math.floor(cores / this.o.size))),
      TF_NUM_INTEROP_THREADS: process.env.TF_NUM_INTEROP_THREADS ?? '1',
      ...this.o.env,
    };
    const proc = fork(ENTRY, [], { serialization: 'advanced', env, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
    const channel = processChannel(proc);
    const child: Child = { proc, channel, host: new RemoteBusHost(this.o.bus, channel), busy: undefined };
    this.children.push(child);
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
      // TensorFlow's own start-up noise is not the user's business; anything else is.
      for (const line of d.toString().split('\n')) if (line.trim() && !/cudart_stub|cuda drivers|oneDNN|TF_ENABLE_ONEDNN|cpu_feature_guard|rebuild TensorFlow|^\s*To enable/.test(line)) this.o.log(`trainer ${proc.pid}: ${line}`);
    });
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`a trainer process did not start in ${READY_TIMEOUT_MS / 1000} s: ${stderr.trim().split('\n').slice(-3).join(' / ')}`)), READY_TIMEOUT_MS);
      channel.listen((m) => {
        if (!isTrainerMessage(m)) return;
        this.receive(child, m as FromTrainer);
        if (m.k === 'ready') {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        const why = `trainer process ${proc.pid} exited (${signal ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' / ')}` : ''}`;
        reject(new Error(why));
        this.children.splice(this.children.indexOf(child), 1);
        const busy = child.busy;
        child.busy = undefined;
        if (busy) busy.reject(new Error(`${why}, while training ${busy.job.runId}`));
        void child.host.end();
        // Replaced, so the rest of the sweep goes on with N trainers.
        if (!this.closing) this.spawn().then(() => this.freed(), (err: Error) => this.o.log(`sweep: could not replace a trainer process: ${err.message}`));
      });
    });
  }

  private receive(c: Child, m: FromTrainer): void {
    const busy = c.busy;
    if (m.k === 'ready' || !busy || busy.job.job !== m.job) return;
    if (m.k === 'step') busy.hooks.onStep?.(m.m, m.rate);
    else if (m.k === 'log') busy.hooks.log?.(m.line);
    else {
      c.busy = undefined;
      if (m.k === 'trained') busy.resolve(m.summary);
      else busy.reject(new Error(m.error));
      this.freed();
    }
  }

  private freed(): void {
    this.waiting.shift()?.();
  }
}
