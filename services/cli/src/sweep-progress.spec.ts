// The sweep's one progress display, with one point training and with several at once (--workers).
import { describe, expect, it } from 'vitest';
import type { StepMetrics } from '@grokstream/schemas';
import type { SweepPoint } from '@grokstream/sweep';
import { SweepProgress } from './sweep-progress.ts';

function stream(isTTY: boolean) {
  const written: string[] = [];
  return { out: { isTTY, write: (s: string) => (written.push(s), true) } as unknown as NodeJS.WriteStream, written };
}
const point = (index: number, overrides: string[]): SweepPoint => ({ index, overrides, values: Object.fromEntries(overrides.map((o) => o.split('='))) });
const metrics = (step: number, trainAcc: number, testAcc: number | null) => ({ step, train_acc: trainAcc, test_acc: testAcc }) as StepMetrics;

describe('SweepProgress', () => {
  it('on a terminal: one line rewritten in place, naming every point that trains now', async () => {
    const { out, written } = stream(true);
    const p = new SweepProgress(out, { id: 'sw', total: 3, skipped: 1, quiet: false });
    const a = point(0, ['task.train_fraction=0.3']);
    const b = point(1, ['task.train_fraction=0.5']);
    p.start(a, 'run-a', 100);
    p.step(a, metrics(10, 0.5, 0.1), 40);
    expect(written.at(-1)).toBe('\r\x1b[2Ksweep sw [1/3 points, 1 skipped] point 0 (task.train_fraction=0.3): step 10/100  train/test acc 0.500/0.100  40 steps/s');
    p.start(b, 'run-b', 200);
    await new Promise((r) => setTimeout(r, 110)); // the line is rewritten at most every 100 ms
    p.step(b, metrics(20, 0.25, null), 30, 'WARMUP');
    expect(written.at(-1)).toBe(
      '\r\x1b[2Ksweep sw [1/3 points, 1 skipped] point 0 (task.train_fraction=0.3): step 10/100  train/test acc 0.500/0.100  40 steps/s | point 1: step 20/200 acc 0.250/–  30 steps/s  WARMUP',
    );
    p.finish(a, 'early_stopped', 60, 'converged');
    expect(written.slice(-2)).toEqual(['\n', 'sweep sw: point 0 (task.train_fraction=0.3) stopped early at step 60 by converged [2/3 points, 1 stopped early, 1 skipped]\n']);
  });

  it('in a log: a line per point at each quarter of its steps, whichever points train', () => {
    const { out, written } = stream(false);
    const p = new SweepProgress(out, { id: 'sw', total: 2, skipped: 0, quiet: false });
    const a = point(0, ['x=1']);
    const b = point(1, ['x=2']);
    p.start(a, 'run-a', 100);
    p.start(b, 'run-b', 100);
    for (let s = 1; s <= 60; s++) {
      p.step(a, metrics(s, 0, 0), 10);
      p.step(b, metrics(s, 0, 0), 10);
    }
    expect(written.filter((l) => / step \d+\/100/.test(l)).map((l) => /point (\d) .*step (\d+)/.exec(l)!.slice(1).join('@'))).toEqual(['0@25', '1@25', '0@50', '1@50']);
    expect(written.filter((l) => /starts as/.test(l))).toHaveLength(2);
  });
});
