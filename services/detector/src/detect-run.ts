// One run's detector: events -> phases -> policies. Emits the PhaseChanged events and at most
// one StopRun (the first policy to decide wins; the command id is derived from the decision, so
// a replay issues the same command). Old and repeated events are dropped first (dropStale), and
// the run's pipeline ends at its RunFinished, leaving a RunCarry behind: the few numbers a run
// resumed after that finish needs to go on where it was (run-book.ts keeps them).
import { EMPTY, Observable, Subject, filter, map, merge, share, take, type OperatorFunction } from 'rxjs';
import { stopRunCommand, type AnyEvent, type PhaseChanged, type StopRun } from '@grokstream/schemas';
import { classifyPhases, type DetectorIdentity } from './classify-phases.ts';
import { PhaseMachine, type PhaseCarry, type PhaseOptions } from './phase-machine.ts';
import type { RunView, StopDecision } from './views.ts';
import { deterministicId } from '@grokstream/schemas';
import { dropStale } from './drop-stale.ts';
import { positionOf, type EventPosition } from './event-position.ts';

export type DetectorOutput = { name: 'PhaseChanged'; value: PhaseChanged } | { name: 'StopRun'; value: StopRun };

export type Policy = OperatorFunction<RunView, StopDecision>;

export interface RunDetectorOptions {
  identity: DetectorIdentity;
  phases: PhaseOptions;
  policies: Policy[];
}

/** What a run leaves behind at its RunFinished: a tombstone of a few numbers. */
export interface RunCarry {
  /** The RunFinished's position: anything of the run at or before it is stale. */
  last: EventPosition;
  phases: PhaseCarry;
  /** PhaseChanged events so far (so the next one's seq). */
  changes: number;
  /** A StopRun was issued: a resumed run is not stopped a second time. */
  stopped: boolean;
}

/** A run's outputs, then `RunEnded` with its carry when a (fresh) RunFinished ends it. */
export type RunOutput = DetectorOutput | { name: 'RunEnded'; value: RunCarry };

export function toStopRun(d: StopDecision, identity: DetectorIdentity, ts: number): StopRun {
  return {
    ...stopRunCommand({
      runId: d.runId,
      policy: d.policy,
      reason: d.reason,
      issuedBy: `${identity.detector} ${identity.version}`,
      step: d.step,
      evidence: d.evidence,
      commandId: deterministicId(d.runId, identity.detector, identity.version, d.policy, d.step),
    }),
    event_id: deterministicId('stop', d.runId, identity.detector, identity.version, d.policy, d.step),
    ts,
  };
}

/**
 * One run from its first event (or from `from`, the carry of its previous RunFinished) to its
 * next RunFinished. The source may be cold and synchronous: it is subscribed to last, once every
 * branch is in place. (Hand-wired rather than built from connect/takeWhile/tap: every RxJS
 * subscriber costs about a kilobyte per run, and the service holds thousands of runs.)
 */
export function detectRunToEnd(o: RunDetectorOptions, from?: RunCarry): OperatorFunction<AnyEvent, RunOutput> {
  return (events) =>
    new Observable<RunOutput>((subscriber) => {
      let machine: PhaseMachine | null = null;
      let changes = from?.changes ?? 0;
      let stopped = from?.stopped ?? false;
      // A stop's ts is that of the step whose view decided it, so a replay reproduces it exactly.
      let lastTs = 0;
      const fresh = new Subject<AnyEvent>();
      const resume = from ? { carry: from.phases, nextSeq: from.changes } : undefined;
      const classified = fresh.pipe(classifyPhases(o.phases, o.identity, resume), share());
      const phaseChanges = classified.pipe(
        // The first subscriber of every step: it notes the step's state for the branches after it.
        filter((c) => {
          machine = c.machine;
          lastTs = c.view.metrics.ts;
          return c.change !== null;
        }),
        map((c): RunOutput => {
          changes++;
          return { name: 'PhaseChanged', value: c.change! };
        }),
      );
      const views = classified.pipe(
        map((c) => c.view),
        share(),
      );
      const stops = stopped
        ? EMPTY
        : merge(...o.policies.map((p) => views.pipe(p))).pipe(
            take(1),
            map((d): RunOutput => {
              stopped = true;
              return { name: 'StopRun', value: toStopRun(d, o.identity, lastTs) };
            }),
          );
      const outputs = merge(phaseChanges, stops).subscribe({ next: (x) => subscriber.next(x), error: (err) => subscriber.error(err) });
      const input = events.pipe(dropStale(from?.last ?? null)).subscribe({
        next: (e) => {
          fresh.next(e);
          if (e.name !== 'RunFinished') return;
          const phases: PhaseCarry = machine ? machine.carry() : (from?.phases ?? new PhaseMachine(o.phases).carry());
          subscriber.next({ name: 'RunEnded', value: { last: positionOf(e)!, phases, changes, stopped } });
          subscriber.complete();
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        input.unsubscribe();
        outputs.unsubscribe();
      };
    });
}

/** The run's PhaseChanged and StopRun events (detectRunToEnd without the carry). */
export function detectRun(o: RunDetectorOptions, from?: RunCarry): OperatorFunction<AnyEvent, DetectorOutput> {
  return (events) => events.pipe(detectRunToEnd(o, from), filter((x): x is DetectorOutput => x.name !== 'RunEnded'));
}
