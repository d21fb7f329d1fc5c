// Synthetic runs for detector tests, with known phase boundaries.
import { exampleStepMetrics, type AnyEvent, type RunStarted } from '@grokstream/schemas';

/** Train fits by step 100; test near chance until 600, then rises to 1 by 700. */
export function syntheticGrokkingRun(runId: string, steps = 1000, finished = true): AnyEvent[] {
  const events: AnyEvent[] = Array.from({ length: steps }, (_, i) => {
    const step = i + 1;
    const trainAcc = Math.min(1, step / 100);
    const testAcc = step < 600 ? 0.05 : Math.min(1, 0.05 + (0.95 * (step - 600)) / 100);
    return {
      name: 'StepMetrics' as const,
      value: exampleStepMetrics({ run_id: runId, step, seq: step, train_acc: trainAcc, test_acc: testAcc, train_loss: 1.001 - trainAcc, ts: 1_000_000 + step }),
    };
  });
  if (finished) {
    events.push({
      name: 'RunFinished',
      value: { event_id: `${runId}-end`, run_id: runId, seq: steps + 1, ts: 1_000_000 + steps, step: steps, reason: 'completed', command_id: null, error: null, summary: {} },
    });
  }
  return events;
}

/** A synthetic run's RunStarted: `config_json` '{}' unless given. */
export function syntheticRunStarted(f: Pick<RunStarted, 'event_id' | 'run_id' | 'seq' | 'ts' | 'resumed_from_step'> & { config_json?: string }): AnyEvent {
  return {
    name: 'RunStarted',
    value: {
      ...f,
      config_json: f.config_json ?? '{}',
      seeds: { data: 0, init: 0, order: 0 },
      task: 'synthetic',
      model: 'synthetic',
      layer_names: [],
      param_count: 0,
      backend: 'none',
      host: 'test',
      grokstream_version: '0',
      tags: {},
    },
  };
}

export interface SyntheticRunSpec {
  runId: string;
  /** Steps the run trains for in all. */
  steps: number;
  /** Train accuracy reaches 1 at this step. */
  memorizeBy: number;
  /** Test accuracy starts rising from chance at this step (null: never) and reaches 1 `grokSteps` later. */
  grokAt: number | null;
  grokSteps?: number;
  /** Train loss is NaN from this step on. */
  divergeAt?: number | null;
  /** A ProbeSummary after every n-th step (0: none). */
  probeEvery?: number;
  /** A Checkpointed after every n-th step (0: none). */
  checkpointEvery?: number;
  /**
   * How it ends: completed (RunFinished), unfinished (still running), crash-resume (the trainer
   * dies after step `at` and a new one resumes from the last checkpoint before it, re-emitting the
   * steps after that checkpoint), interrupted-resume (RunFinished{interrupted} after step `at`,
   * then resumed from there).
   */
  ending: { kind: 'completed' } | { kind: 'unfinished' } | { kind: 'crash-resume'; at: number } | { kind: 'interrupted-resume'; at: number };
}

/**
 * A run's events as the trainer emits them (trainer/src/loop.ts): seq numbers, checkpoints
 * (taking one seq, and RunFinished one more after a final checkpoint) and resumes included.
 */
export function syntheticRun(spec: SyntheticRunSpec): AnyEvent[] {
  const { runId, steps, memorizeBy, grokAt } = spec;
  const grokSteps = spec.grokSteps ?? 60;
  const probeEvery = spec.probeEvery ?? 0;
  const checkpointEvery = spec.checkpointEvery ?? 0;
  const events: AnyEvent[] = [];
  let seq = 0;
  let life = 0; // bumped by each (re)start: new event ids, later timestamps
  const id = (what: string, n: number) => `${runId}-${life}-${what}-${n}`;
  const ts = (n: number) => 1_000_000 + life * 100_000 + n;
  const start = (resumedFrom: number | null) =>
    events.push(syntheticRunStarted({ event_id: id('start', resumedFrom ?? 0), run_id: runId, seq: seq++, ts: ts(resumedFrom ?? 0), resumed_from_step: resumedFrom }));
  let nextSeqAtCheckpoint = new Map<number, number>();
  const checkpoint = (n: number, final: boolean) => {
    nextSeqAtCheckpoint.set(n, seq + (final ? 2 : 1));
    events.push({ name: 'Checkpointed', value: { event_id: id('ckpt', n), run_id: runId, seq: seq++, ts: ts(n), step: n, uri: `mem://${runId}/${n}`, bytes: 1, sha256: null } });
  };
  const finish = (n: number, reason: 'completed' | 'interrupted') =>
    events.push({ name: 'RunFinished', value: { event_id: id('end', n), run_id: runId, seq: seq++, ts: ts(n), step: n, reason, command_id: null, error: null, summary: {} } });
  const step = (n: number) => {
    const trainAcc = Math.min(1, n / memorizeBy);
    const testAcc = grokAt === null || n < grokAt ? 0.05 : Math.min(1, 0.05 + (0.95 * (n - grokAt)) / grokSteps);
    const diverged = spec.divergeAt != null && n >= spec.divergeAt;
    events.push({
      name: 'StepMetrics',
      value: exampleStepMetrics({ run_id: runId, event_id: id('step', n), step: n, seq: seq++, ts: ts(n), train_acc: trainAcc, test_acc: testAcc, train_loss: diverged ? NaN : 1.001 - trainAcc }),
    });
    if (probeEvery > 0 && n % probeEvery === 0) {
      events.push({
        name: 'ProbeSummary',
        value: { event_id: id('probe', n), run_id: runId, seq: seq++, ts: ts(n), step: n, probe_batch_size: 8, grad_noise_trace: 1 / n, grad_snr: null, tr_h_sigma: null, hessian_trace: null, hessian_trace_avg: null, hessian_top_eig: null, gop: [], extra: {}, elapsed_ms: null },
      });
    }
    if (checkpointEvery > 0 && n % checkpointEvery === 0 && n < steps) checkpoint(n, false);
  };
  const train = (from: number, to: number) => {
    for (let n = from; n <= to; n++) step(n);
  };

  start(null);
  const e = spec.ending;
  if (e.kind === 'crash-resume') {
    train(1, e.at);
    const saved = [...nextSeqAtCheckpoint.keys()].filter((n) => n <= e.at);
    const from = saved.length > 0 ? Math.max(...saved) : 0;
    seq = from > 0 ? nextSeqAtCheckpoint.get(from)! : 0;
    nextSeqAtCheckpoint = new Map([...nextSeqAtCheckpoint].filter(([n]) => n <= from));
    life++;
    start(from > 0 ? from : null);
    train(from + 1, steps);
  } else if (e.kind === 'interrupted-resume') {
    train(1, e.at);
    checkpoint(e.at, true);
    finish(e.at, 'interrupted');
    seq = nextSeqAtCheckpoint.get(e.at)!;
    life++;
    start(e.at);
    train(e.at + 1, steps);
  } else train(1, steps);
  if (e.kind !== 'unfinished') {
    checkpoint(steps, true);
    finish(steps, 'completed');
  }
  return events;
}
