// A minimal valid StepMetrics for tests, benchmarks and docs: only what a case cares about is spelled out.
import { randomUUID } from 'node:crypto';
import type { StepMetrics } from './events.generated.ts';

export function exampleStepMetrics(fields: Partial<StepMetrics> & Pick<StepMetrics, 'run_id' | 'step'>): StepMetrics {
  return {
    event_id: randomUUID(),
    seq: fields.step,
    ts: 1_763_900_000_000 + fields.step,
    train_loss: 1 / (fields.step + 1),
    train_acc: null,
    test_loss: null,
    test_acc: null,
    lr: 1e-3,
    weight_norm: 1,
    layer_norms: [],
    grad_norm_sq: null,
    update_norm: null,
    softmax_collapse_frac: null,
    last_layer_norm: null,
    init_distance: null,
    extra: {},
    ...fields,
  };
}
