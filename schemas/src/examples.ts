// A minimal valid StepMetrics for tests, benchmarks and docs: only what a case cares about is spelled out.
import { randomUUID } from 'node:crypto';
import type { ProbeSummary, StepMetrics } from './events.generated.ts';

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

/** A ProbeSummary with every probe absent (null, no GOP), for specs and synthetic runs; `fields` override. */
export function exampleProbeSummary(fields: Partial<ProbeSummary> & Pick<ProbeSummary, 'run_id' | 'step'>): ProbeSummary {
  return {
    event_id: `${fields.run_id}-probe-${fields.step}`,
    seq: fields.step,
    ts: 1_763_900_000_000 + fields.step,
    probe_batch_size: 64,
    grad_noise_trace: null,
    grad_snr: null,
    tr_h_sigma: null,
    hessian_trace: null,
    hessian_trace_avg: null,
    hessian_top_eig: null,
    gop: [],
    extra: {},
    elapsed_ms: null,
    ...fields,
  };
}
