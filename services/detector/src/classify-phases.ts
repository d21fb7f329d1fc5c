// Operator: one run's events in step order -> a RunView per StepMetrics, with the PhaseChanged
// event when the announced phase changes. Deterministic: ids, seq and ts come from the input.
// A run resumed after its RunFinished starts from what it carried (its phase, its change count).
import { Observable, type OperatorFunction } from 'rxjs';
import type { AnyEvent, PhaseChanged, ProbeSummary } from '@grokstream/schemas';
import { PhaseMachine, type PhaseCarry, type PhaseOptions } from './phase-machine.ts';
import { deterministicId } from '@grokstream/schemas';
import type { RunView } from './views.ts';

export interface Classified {
  view: RunView;
  change: PhaseChanged | null;
  /** The run's phase machine (the same object at every step), after this step. */
  machine: PhaseMachine;
}

/** Where a resumed run's classification starts: its carried phase state and next PhaseChanged seq. */
export interface PhaseResume {
  carry: PhaseCarry;
  nextSeq: number;
}

export interface DetectorIdentity {
  detector: string;
  version: string;
}

export function classifyPhases(options: PhaseOptions, id: DetectorIdentity, resume?: PhaseResume): OperatorFunction<AnyEvent, Classified> {
  return (source) =>
    new Observable<Classified>((subscriber) => {
      const machine = new PhaseMachine(options, resume?.carry);
      let probe: ProbeSummary | null = null;
      let seq = resume?.nextSeq ?? 0;
      return source.subscribe({
        next: (event) => {
          if (event.name === 'ProbeSummary') {
            probe = event.value;
            return;
          }
          if (event.name !== 'StepMetrics') return;
          const m = event.value;
          const out = machine.step(m, probe);
          let change: PhaseChanged | null = null;
          if (out.change) {
            change = {
              event_id: deterministicId(m.run_id, id.detector, id.version, out.change.step, out.change.phase),
              run_id: m.run_id,
              seq: seq++,
              ts: m.ts,
              step: out.change.step,
              phase: out.change.phase,
              previous_phase: out.change.previous,
              evidence: out.change.evidence,
              detector: id.detector,
              detector_version: id.version,
            };
          }
          subscriber.next({
            view: {
              runId: m.run_id,
              step: m.step,
              metrics: m,
              probe,
              phase: machine.phase,
              memorizedAt: machine.memorizedAt,
              generalization: out.generalization,
            },
            change,
            machine,
          });
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
