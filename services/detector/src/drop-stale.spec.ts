import { describe, expect, it } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import { from, toArray, firstValueFrom } from 'rxjs';
import fc from 'fast-check';
import { exampleStepMetrics, type AnyEvent } from '@grokstream/schemas';
import { dropStale } from './drop-stale.ts';
import { isAfter, positionOf } from './event-position.ts';
import { syntheticGrokkingRun } from './testing-runs.ts';

const step = (n: number, id = `s${n}`): AnyEvent => ({ name: 'StepMetrics', value: exampleStepMetrics({ run_id: 'r', step: n, event_id: id }) });
const probe = (n: number): AnyEvent => ({
  name: 'ProbeSummary',
  value: { event_id: `p${n}`, run_id: 'r', seq: 0, ts: 0, step: n, probe_batch_size: 4, grad_noise_trace: 1, grad_snr: null, tr_h_sigma: null, hessian_trace: null, hessian_trace_avg: null, hessian_top_eig: null, gop: [], extra: {}, elapsed_ms: null },
});
const finished = (n: number): AnyEvent => ({
  name: 'RunFinished',
  value: { event_id: `f${n}`, run_id: 'r', seq: 0, ts: 0, step: n, reason: 'interrupted', command_id: null, error: null, summary: {} },
});
const started = (resumedFrom: number | null): AnyEvent => ({
  name: 'RunStarted',
  value: {
    event_id: `start${resumedFrom}`,
    run_id: 'r',
    seq: 0,
    ts: 0,
    config_json: '{}',
    seeds: { data: 0, init: 0, order: 0 },
    task: 't',
    model: 'm',
    layer_names: [],
    param_count: 0,
    backend: 'cpu',
    host: 'h',
    grokstream_version: '0',
    resumed_from_step: resumedFrom,
    tags: {},
  },
});

const marbles = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('dropStale (marbles)', () => {
  it('drops exact duplicates and a redelivered range', () => {
    marbles().run(({ cold, expectObservable }) => {
      const v = { a: step(1), b: step(2), c: step(3), d: step(4) };
      expectObservable(cold('a-b-a-b-c-b-c-d|', v).pipe(dropStale())).toBe('a-b-----c-----d|', v);
    });
  });

  it('keeps a probe after its step, drops a step that comes again after its probe', () => {
    marbles().run(({ cold, expectObservable }) => {
      const v = { a: step(1), p: probe(1), q: probe(1), b: step(2) };
      expectObservable(cold('a-p-a-q-b|', v).pipe(dropStale())).toBe('a-p-----b|', v);
    });
  });

  it('drops the steps a trainer re-emits after a crash resume (new ids, old steps)', () => {
    marbles().run(({ cold, expectObservable }) => {
      const v = { a: step(1), b: step(2), c: step(3), r: started(1), B: step(2, 'again2'), C: step(3, 'again3'), d: step(4) };
      expectObservable(cold('a-b-c-r-B-C-d|', v).pipe(dropStale())).toBe('a-b-c-------d|', v);
    });
  });

  it('lets a run resumed after an interrupted finish go on, and drops the finish read again', () => {
    marbles().run(({ cold, expectObservable }) => {
      const v = { s: started(null), a: step(1), b: step(2), f: finished(2), r: started(2), c: step(3), S: started(null) };
      expectObservable(cold('s-a-b-f-r-c-f-S-a|', v).pipe(dropStale())).toBe('s-a-b-f-r-c------|', v);
    });
  });

  it('starts from a given mark, drops what is not a run fact, and passes errors through', () => {
    marbles().run(({ cold, expectObservable }) => {
      const other = { name: 'PhaseChanged', value: { run_id: 'r' } } as unknown as AnyEvent;
      const v = { a: step(1), b: step(2), c: step(3), x: other };
      expectObservable(cold('a-b-x-c-#', v).pipe(dropStale({ step: 2, rank: 0 }))).toBe('------c-#', v);
    });
  });
});

describe('dropStale (property)', () => {
  it('gives the same events for a log with repeats as for its first occurrences', async () => {
    const run = syntheticGrokkingRun('r', 60);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(run.length - 1), fc.nat(run.length - 1)), { maxLength: 8 }), async (resends) => {
        // The run in order, with old ranges sent again after the point they were sent from.
        const log: AnyEvent[] = [];
        let next = 0;
        for (const [at, back] of [...resends].sort((x, y) => x[0] - y[0])) {
          while (next <= at) log.push(run[next++]!);
          log.push(...run.slice(Math.max(0, at - back), at + 1));
        }
        log.push(...run.slice(next));
        const out = await firstValueFrom(from(log).pipe(dropStale(), toArray()));
        expect(out).toEqual(run);
      }),
      { numRuns: 50 },
    );
  });

  it('orders positions strictly', () => {
    const p = positionOf(step(3))!;
    expect(isAfter(p, p)).toBe(false);
    expect(isAfter(positionOf(probe(3))!, p)).toBe(true);
    expect(isAfter(positionOf(finished(3))!, positionOf(probe(3))!)).toBe(true);
    expect(isAfter(positionOf(started(3))!, positionOf(finished(3))!)).toBe(true);
    expect(isAfter(positionOf(started(null))!, positionOf(step(0))!)).toBe(false);
    expect(isAfter(p, null)).toBe(true);
  });
});
