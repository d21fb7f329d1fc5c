// The per-run bookkeeping, the one piece of code the service (one book per partition it holds)
// and replay (one book for everything) both use, so they cannot disagree:
//  - a run's first event opens its pipeline (detectRunToEnd: dropStale, phases, policies);
//  - a fresh RunFinished ends it, and the run keeps only a tombstone (RunCarry, a few numbers);
//  - later events of a finished run at or before its RunFinished (duplicates, redelivery, a
//    re-read from offset 0) are ignored without opening anything;
//  - a later event after it (the run was resumed after an interrupted finish) reopens the run
//    from its tombstone: it goes on in its phase, with its PhaseChanged seq, and is not stopped
//    twice.
// No I/O and no clock: the same events in the same order give the same outputs.
import { Subject, type Subscription } from 'rxjs';
import type { AnyEvent } from '@grokstream/schemas';
import { detectRunToEnd, type DetectorOutput, type RunCarry, type RunDetectorOptions } from './detect-run.ts';
import { isAfter, positionOf } from './event-position.ts';

interface ActiveRun {
  kind: 'active';
  input: Subject<AnyEvent>;
  subscription: Subscription;
}

interface FinishedRun {
  kind: 'finished';
  carry: RunCarry;
}

export type RunEntry = ActiveRun | FinishedRun;

export type Route = 'open' | 'feed' | 'reopen' | 'ignore';

/** What to do with an event, given what the book holds for its run. */
export function route(entry: { kind: 'active' } | FinishedRun | undefined, e: AnyEvent): Route {
  const p = positionOf(e);
  if (p === null) return 'ignore';
  if (entry === undefined) return 'open';
  if (entry.kind === 'active') return 'feed';
  return isAfter(p, entry.carry.last) ? 'reopen' : 'ignore';
}

export interface RunBookSink {
  output: (out: DetectorOutput) => void;
  /** A pipeline failed (a bug: the operators do not throw on data). */
  error: (err: unknown) => void;
}

export class RunBook {
  private readonly runs = new Map<string, RunEntry>();
  private active = 0;

  constructor(
    private readonly o: RunDetectorOptions,
    private readonly sink: RunBookSink,
  ) {}

  /** Runs with a live pipeline. */
  get activeRuns(): number {
    return this.active;
  }

  /** Runs that ended and keep a tombstone. */
  get finishedRuns(): number {
    return this.runs.size - this.active;
  }

  /** Routes one event; its outputs go to the sink before this returns. */
  push(e: AnyEvent): void {
    const runId = e.value.run_id;
    let entry = this.runs.get(runId);
    switch (route(entry, e)) {
      case 'ignore':
        return;
      case 'open':
        entry = this.open(runId, undefined);
        break;
      case 'reopen':
        entry = this.open(runId, (entry as FinishedRun).carry);
        break;
      case 'feed':
        break;
    }
    (entry as ActiveRun).input.next(e);
  }

  /** Drops every pipeline and tombstone, emitting nothing (a revoked partition, a stop, the end of a replay). */
  dispose(): void {
    for (const entry of this.runs.values()) if (entry.kind === 'active') entry.subscription.unsubscribe();
    this.runs.clear();
    this.active = 0;
  }

  private open(runId: string, from: RunCarry | undefined): ActiveRun {
    const input = new Subject<AnyEvent>();
    const entry: ActiveRun = { kind: 'active', input, subscription: undefined as unknown as Subscription };
    this.runs.set(runId, entry);
    this.active++;
    entry.subscription = input.pipe(detectRunToEnd(this.o, from)).subscribe({
      next: (out) => {
        if (out.name === 'RunEnded') {
          this.runs.set(runId, { kind: 'finished', carry: out.value });
          this.active--;
        } else this.sink.output(out);
      },
      error: (err) => this.sink.error(err),
    });
    return entry;
  }
}
