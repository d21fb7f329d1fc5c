import { describe, expect, it } from 'vitest';
import { sweepPoints } from './grid.ts';
import { stepsSaved, summaryTable, type PointResult } from './summary.ts';

const [p0, p1, p2] = sweepPoints({ axes: ['task.train_fraction=0.3,0.5,0.7'] });
const result = (point: typeof p0, o: Partial<PointResult>): PointResult => ({
  point: point!,
  runId: 'r',
  status: 'ran',
  memorizedStep: null,
  grokStep: null,
  finalTrainAcc: null,
  finalTestAcc: null,
  stopPolicy: null,
  lastStep: 800,
  plannedSteps: 800,
  ...o,
});

describe('sweep summary', () => {
  it('prints one aligned row per point: values, memorization, grok step, delay, accuracies, stop, run', () => {
    const table = summaryTable(
      [
        result(p0, { runId: 'a-1', memorizedStep: 90, grokStep: 700, finalTrainAcc: 1, finalTestAcc: 0.97 }),
        result(p1, { runId: 'a-2', memorizedStep: 134, grokStep: 511, finalTrainAcc: 1, finalTestAcc: 1, stopPolicy: 'converged', lastStep: 717 }),
        result(p2, { status: 'skipped', runId: 'old-3', memorizedStep: 131, grokStep: 235, finalTrainAcc: 1, finalTestAcc: 1 }),
      ],
      ['task.train_fraction'],
    );
    expect(table.split('\n')).toEqual([
      '  task.train_fraction  memorized  grokked  delay  train acc  test acc  stopped by  run',
      '  -------------------  ---------  -------  -----  ---------  --------  ----------  ---------------',
      '  0.3                  90         700      610    1          0.970     –           a-1',
      '  0.5                  134        511      377    1          1         converged   a-2',
      '  0.7                  131        235      104    1          1         –           skipped (old-3)',
    ]);
  });

  it('counts the steps the stops saved over the points run now, and their time at each run\'s rate', () => {
    expect(
      stepsSaved([
        result(p0, { stopPolicy: 'converged', lastStep: 600, stepsPerSecond: 100 }),
        result(p1, { stopPolicy: 'no_grok_budget', lastStep: 300, stepsPerSecond: null }),
        result(p2, { status: 'skipped', stopPolicy: 'converged', lastStep: 100, stepsPerSecond: 10 }),
      ]),
    ).toEqual({ stopped: 2, steps: 700, planned: 1600, seconds: 2 });
  });
});
