import { describe, expect, it } from 'vitest';
import type { AnyEvent } from '@grokstream/schemas';
import { RunBook, route } from './run-book.ts';
import { replayEvents } from './replay.ts';
import { detectorOptions, parseDetectorConfig } from './config.ts';
import { syntheticRun, type SyntheticRunSpec } from './testing-runs.ts';
import type { DetectorOutput, RunCarry } from './detect-run.ts';
import { exampleStepMetrics } from '@grokstream/schemas';

const options = detectorOptions(
  parseDetectorConfig(
    { detector: { name: 'book-test' }, phases: { warmup_steps: 5, window: 20, plateau_steps: 40, confirm_steps: 3 }, policies: [{ kind: 'divergence' }, { kind: 'converged', steps: 30 }] },
    'test',
  ),
);
const run = (ending: SyntheticRunSpec['ending'], extra: Partial<SyntheticRunSpec> = {}) =>
  syntheticRun({ runId: 'r', steps: 300, memorizeBy: 50, grokAt: 150, probeEvery: 7, checkpointEvery: 25, ending, ...extra });
const phases = (out: DetectorOutput[]) => out.map((o) => (o.name === 'PhaseChanged' ? `${o.value.step}:${o.value.phase}#${o.value.seq}` : `${o.value.step}:STOP`));

function bookOver(events: AnyEvent[]) {
  const out: DetectorOutput[] = [];
  const book = new RunBook(options, { output: (o) => out.push(o), error: (err) => { throw err; } });
  for (const e of events) book.push(e);
  return { book, out };
}

describe('route', () => {
  const step = (n: number): AnyEvent => ({ name: 'StepMetrics', value: exampleStepMetrics({ run_id: 'r', step: n }) });
  const carry: RunCarry = { last: { step: 10, rank: 3 }, phases: { phase: 'PLATEAU', memorizedAt: 5, best: 0.1, bestStep: 3, lastProgress: null, lossScale: null }, changes: 2, stopped: false };
  it.each([
    ['a run not seen yet', undefined, step(1), 'open'],
    ['an active run', { kind: 'active' as const }, step(1), 'feed'],
    ['a finished run, an event up to its finish', { kind: 'finished' as const, carry }, step(10), 'ignore'],
    ['a finished run, an event after its finish', { kind: 'finished' as const, carry }, step(11), 'reopen'],
    ['anything, for what is not a run fact', undefined, { name: 'StopRun', value: { run_id: 'r' } } as unknown as AnyEvent, 'ignore'],
  ])('%s', (_what, entry, e, expected) => {
    expect(route(entry, e)).toBe(expected);
  });
});

describe('RunBook', () => {
  it('ends a run at RunFinished, keeps a tombstone, and opens nothing when the run is read again', () => {
    const events = run({ kind: 'completed' });
    const { book, out } = bookOver([...events, ...events, ...events.slice(100)]);
    expect(book.activeRuns).toBe(0);
    expect(book.finishedRuns).toBe(1);
    expect(phases(out)).toEqual(['50:MEMORIZATION#0', '90:PLATEAU#1', '150:GROKKING#2', '208:CONVERGED#3', '240:STOP']);
  });

  it('goes on with a run resumed after an interrupted finish: same phase, next seq, no WARMUP again', () => {
    const { book, out } = bookOver(run({ kind: 'interrupted-resume', at: 120 }));
    // Interrupted in PLATEAU: the resumed run goes on from there to GROKKING, with seq 2.
    expect(phases(out)).toEqual(['50:MEMORIZATION#0', '90:PLATEAU#1', '150:GROKKING#2', '208:CONVERGED#3', '240:STOP']);
    expect(book.finishedRuns).toBe(1);
  });

  it('does not stop a resumed run a second time', () => {
    // Stopped at 259 (converged), finished there, then resumed anyway.
    const { out } = bookOver(run({ kind: 'interrupted-resume', at: 260 }, { steps: 400 }));
    expect(out.filter((o) => o.name === 'StopRun')).toHaveLength(1);
    expect(phases(out).filter((p) => p.includes('WARMUP'))).toEqual([]);
  });

  it('ignores the steps a trainer re-emits after a crash: the same verdicts as an uninterrupted run', () => {
    const crashed = bookOver(run({ kind: 'crash-resume', at: 130 })).out;
    const straight = bookOver(run({ kind: 'unfinished' })).out;
    expect(phases(crashed)).toEqual(phases(straight));
    expect(crashed.map((o) => o.value.event_id)).toEqual(straight.map((o) => o.value.event_id));
  });

  it('is what replay uses: a replay of a log with repeats equals the replay of its distinct events', async () => {
    const a = run({ kind: 'interrupted-resume', at: 120 });
    const b = syntheticRun({ runId: 'b', steps: 200, memorizeBy: 30, grokAt: null, divergeAt: 150, ending: { kind: 'completed' } });
    const distinct = a.flatMap((e, i) => (b[i] ? [e, b[i]!] : [e]));
    const withRepeats = [...distinct.slice(0, 300), ...distinct.slice(100, 250), ...distinct.slice(250), ...distinct.slice(0, 50)];
    const expected = await replayEvents(distinct, options);
    expect(await replayEvents(withRepeats, options)).toEqual(expected);
    expect(bookOver(withRepeats).out).toEqual(expected);
    expect(expected.filter((o) => o.value.run_id === 'b').map((o) => (o.name === 'PhaseChanged' ? o.value.phase : 'STOP'))).toEqual(['MEMORIZATION', 'PLATEAU', 'DIVERGED', 'STOP']);
  });

  it('drops everything on dispose', () => {
    const { book } = bookOver(run({ kind: 'unfinished' }).slice(0, 50));
    expect(book.activeRuns).toBe(1);
    book.dispose();
    expect(book.activeRuns + book.finishedRuns).toBe(0);
  });
});
