// One run's detector: events -> phases -> policies. Emits the PhaseChanged events and at most
// one StopRun (the first policy to decide wins; the command id is derived from the decision, so
// a replay issues the same command).
import { merge, share, take, filter, map, type OperatorFunction } from 'rxjs';
import { stopRunCommand, type AnyEvent, type PhaseChanged, type StopRun } from '@grokstream/schemas';
import { classifyPhases, type DetectorIdentity } from './classify-phases.ts';
import type { PhaseOptions } from './phase-machine.ts';
import type { RunView, StopDecision } from './views.ts';
import { deterministicId } from './deterministic-id.ts';

export type DetectorOutput = { name: 'PhaseChanged'; value: PhaseChanged } | { name: 'StopRun'; value: StopRun };

export type Policy = OperatorFunction<RunView, StopDecision>;

export interface RunDetectorOptions {
  identity: DetectorIdentity;
  phases: PhaseOptions;
  policies: Policy[];
}

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

export function detectRun(o: RunDetectorOptions): OperatorFunction<AnyEvent, DetectorOutput> {
  return (events) => {
    const classified = events.pipe(classifyPhases(o.phases, o.identity), share());
    const views = classified.pipe(map((c) => c.view));
    const changes = classified.pipe(
      filter((c) => c.change !== null),
      map((c): DetectorOutput => ({ name: 'PhaseChanged', value: c.change! })),
    );
    // A stop's ts is that of the step whose view decided it, so a replay reproduces it exactly.
    let lastTs = 0;
    const views$ = views.pipe(
      map((v) => {
        lastTs = v.metrics.ts;
        return v;
      }),
      share(),
    );
    const stops = merge(...o.policies.map((p) => views$.pipe(p))).pipe(
      take(1),
      map((d): DetectorOutput => ({ name: 'StopRun', value: toStopRun(d, o.identity, lastTs) })),
    );
    return merge(changes, stops);
  };
}
