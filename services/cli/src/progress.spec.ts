import { describe, expect, it } from 'vitest';
import { exampleStepMetrics } from '@grokstream/schemas';
import { progressLine } from './progress.ts';

describe('progressLine', () => {
  it('shows step, losses, accuracies, weight norm, lr and speed', () => {
    const m = exampleStepMetrics({ run_id: 'r', step: 42, train_loss: 0.5, train_acc: 0.75, test_loss: 1.25, test_acc: 0.125, weight_norm: 12.345, lr: 0.003 });
    expect(progressLine(m, 1000, 15.26)).toBe(
      'step   42/1000  train 0.5000/0.750  test 1.2500/0.125  |W| 12.35  lr 3.0e-3  15.3 steps/s',
    );
  });

  it('leaves out what a step did not measure, and prints non-finite losses', () => {
    const m = exampleStepMetrics({ run_id: 'r', step: 1, train_loss: NaN });
    expect(progressLine(m, 10, 1)).toBe('step  1/10  train NaN  |W| 1.00  lr 1.0e-3  1.0 steps/s');
  });

  it('ends with the current phase when a detector runs beside the trainer', () => {
    const m = exampleStepMetrics({ run_id: 'r', step: 7, train_loss: 1 });
    expect(progressLine(m, 10, 2, 'MEMORIZATION')).toMatch(/2\.0 steps\/s {2}phase MEMORIZATION$/);
  });
});
