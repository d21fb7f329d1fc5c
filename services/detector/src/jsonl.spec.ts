import { describe, expect, it } from 'vitest';
import { JsonLinesError, parseStepLines } from './jsonl.ts';

describe('StepMetrics from JSON Lines', () => {
  it('reads the required fields, fills the optional ones, and keeps non-finite values', () => {
    const steps = parseStepLines(
      [
        '{"run_id": "r", "step": 1, "train_loss": 2.5, "train_acc": 0.1, "test_loss": null, "test_acc": null}',
        '',
        '{"run_id": "r", "step": 2, "train_loss": NaN, "train_acc": 0.2, "test_loss": Infinity, "test_acc": 0.05, "weight_norm": 3}',
      ].join('\n'),
      'log.jsonl',
    );
    expect(steps).toHaveLength(2);
    expect(steps[0]).toMatchObject({ run_id: 'r', step: 1, train_loss: 2.5, test_acc: null, grad_norm_sq: null });
    expect(steps[1]!.train_loss).toBeNaN();
    expect(steps[1]).toMatchObject({ test_loss: Infinity, weight_norm: 3 });
  });

  it('names the line and the problem', () => {
    expect(() => parseStepLines('{"run_id": "r", "step": 1}', 'f.jsonl')).toThrow(
      new JsonLinesError('f.jsonl:1: missing train_loss, train_acc, test_loss, test_acc (each line needs run_id, step, train_loss, train_acc, test_loss, test_acc)'),
    );
    expect(() => parseStepLines('ok\n', 'f.jsonl')).toThrow(/f.jsonl:1: not JSON/);
    expect(() =>
      parseStepLines('\n{"run_id": "r", "step": 1.5, "train_loss": 1, "train_acc": 1, "test_loss": 1, "test_acc": 1}', 'f.jsonl'),
    ).toThrow(/f.jsonl:2: step must be an integer, got 1.5/);
    expect(() => parseStepLines('{"run_id": "r", "step": 1, "train_loss": "x", "train_acc": 1, "test_loss": 1, "test_acc": 1}', 'f')).toThrow(
      /train_loss must be a number, got "x"/,
    );
  });
});
