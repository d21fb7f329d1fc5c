import { describe, expect, it } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import { map } from 'rxjs';
import { exampleStepMetrics, type AnyEvent } from '@grokstream/schemas';
import { classifyPhases, type Classified } from './classify-phases.ts';
import { phaseOptions } from './phase-machine.ts';

const step = (n: number, trainLoss = 1): AnyEvent => ({ name: 'StepMetrics', value: exampleStepMetrics({ run_id: 'm', step: n, train_loss: trainLoss, ts: 100 + n }) });
const probe: AnyEvent = {
  name: 'ProbeSummary',
  value: { event_id: 'p', run_id: 'm', seq: 0, ts: 0, step: 1, probe_batch_size: 4, grad_noise_trace: 1, grad_snr: null, tr_h_sigma: null, hessian_trace: null, hessian_trace_avg: null, hessian_top_eig: null, gop: [], extra: {}, elapsed_ms: null },
};
const opts = phaseOptions({ warmupSteps: 0, confirmSteps: 1 });
const id = { detector: 'd', version: '1' };

describe('classifyPhases (marbles)', () => {
  it('emits a view per step, carries the latest probe, ignores other events, and announces DIVERGED with a deterministic event', () => {
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ cold, expectObservable }) => {
      const source = cold<AnyEvent>('a-p-b-c|', { a: step(1), p: probe, b: step(2), c: step(3, NaN) });
      const out = source.pipe(
        classifyPhases(opts, id),
        map((c: Classified) => ({
          step: c.view.step,
          phase: c.view.phase,
          probeSeen: c.view.probe !== null,
          change: c.change && { phase: c.change.phase, previous: c.change.previous_phase, step: c.change.step, seq: c.change.seq, ts: c.change.ts, detector: c.change.detector },
        })),
      );
      expectObservable(out).toBe('a---b-c|', {
        a: { step: 1, phase: 'WARMUP', probeSeen: false, change: null },
        b: { step: 2, phase: 'WARMUP', probeSeen: true, change: null },
        c: { step: 3, phase: 'DIVERGED', probeSeen: true, change: { phase: 'DIVERGED', previous: 'WARMUP', step: 3, seq: 0, ts: 103, detector: 'd' } },
      });
    });
  });
});
