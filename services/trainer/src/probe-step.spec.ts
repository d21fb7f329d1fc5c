// The probe pipeline (probe-step.ts): work goes to the summarizer at the probe step and its
// results come back at finish(); work whose eigenvalues are in flight on a thread of their own
// (graph/mlp-probes.ts, GramSpectra) is kept here and summarized at finish(), when they are taken.
import { describe, expect, it } from 'vitest';
import { exampleProbeSummary } from '@grokstream/schemas';
import { ProbePipeline } from './probe-step.ts';
import type { ProbeReading } from './probes/index.ts';
import type { GramSummarizer } from './probes/summarizer.ts';
import { InlineSummarizer } from './probes/summarizer.ts';
import type { EigenvaluesInFlight, GramEigenvalues, GramWork } from './probes/summaries.ts';
import { RunCursor } from './run-cursor.ts';

const B = 3;
// Every probe absent: the fields of the schemas' example summary, without its envelope and step.
const { event_id: _id, run_id: _run, seq: _seq, ts: _ts, step: _step, elapsed_ms: _ms, ...fields } = exampleProbeSummary({ run_id: 'r', step: 0, probe_batch_size: B });
// K = diag(3, 2, 1): its eigenvalues, ascending as LAPACK gives them.
const k = Float64Array.from([3, 0, 0, 0, 2, 0, 0, 0, 1]);
const eig: GramEigenvalues = { total: Float64Array.from([1, 2, 3]), scopes: [Float64Array.from([1, 2, 3])] };
const work = (eigenvalues: GramWork['eigenvalues']): GramWork => ({
  batchSize: B,
  layers: [],
  others: [],
  grams: { batchSize: B, total: k, scopes: [{ scope: 'dense', gram: k }] },
  ...(eigenvalues ? { eigenvalues } : {}),
  gop: { topK: 2, rankTol: 1e-6, perLayer: true },
  noise: false,
});

/** The summarizer's contract, recording what it is given. */
function recording(): GramSummarizer & { submitted: GramWork[] } {
  const inner = new InlineSummarizer();
  const submitted: GramWork[] = [];
  return {
    where: 'inline',
    submitted,
    submit: (w) => (submitted.push(w), inner.submit(w)),
    take: () => inner.take(),
    close: () => inner.close(),
  };
}

describe('ProbePipeline', () => {
  it('hands work with its eigenvalues to the summarizer at the step, and takes the summary at finish()', () => {
    const summarizer = recording();
    const pipeline = new ProbePipeline((): ProbeReading => ({ fields, work: work(eig) }), summarizer);
    pipeline.start(5);
    expect(summarizer.submitted).toHaveLength(1);
    const summary = pipeline.finish(new RunCursor('r'))!;
    expect(summary.step).toBe(5);
    expect(summary.gop.map((g) => [g.scope, g.top_eigs])).toEqual([
      ['model', [3, 2]],
      ['dense', [3, 2]],
    ]);
  });

  it('keeps work whose eigenvalues are in flight, and takes them only at finish()', () => {
    const summarizer = recording();
    let taken = 0;
    const inFlight: EigenvaluesInFlight = { inFlight: true, take: () => (taken++, eig) };
    const pipeline = new ProbePipeline((): ProbeReading => ({ fields, work: work(inFlight) }), summarizer);
    pipeline.start(7);
    expect(summarizer.submitted).toEqual([]); // not posted: a worker could not take() them
    expect(taken).toBe(0); // the step that follows runs while they are solved
    expect(pipeline.pendingStep).toBe(7);
    const summary = pipeline.finish(new RunCursor('r'))!;
    expect(taken).toBe(1);
    expect(summary.step).toBe(7);
    expect(summary.gop.map((g) => [g.scope, g.top_eigs, g.numerical_rank])).toEqual([
      ['model', [3, 2], 3],
      ['dense', [3, 2], 3],
    ]);
    expect(pipeline.finish(new RunCursor('r'))).toBeUndefined();
  });
});
