// Generated from schemas/avro/*.avsc by schemas/src/typegen.ts. Do not edit.

/** Three seeds, as in S3: data split, initialisation, batch order. */
export interface Seeds {
  data: number;
  init: number;
  order: number;
}

/** A trainer began (or resumed) a run. Carries everything needed to reproduce it. */
export interface RunStarted {
  /** UUID of this event; redelivery keeps it. */
  event_id: string;
  /** Kafka key: all of a run's events share a partition. */
  run_id: string;
  /** Monotonic per run and producer, from 0. */
  seq: number;
  ts: number;
  /** The fully resolved configuration, as JSON. */
  config_json: string;
  seeds: Seeds;
  /** e.g. modular_addition, sparse_parity, deep_linear. */
  task: string;
  /** Model shape in words, e.g. mlp(118-256-59, quadratic). */
  model: string;
  /** Order of StepMetrics.layer_norms and of per-layer GOP scopes. */
  layer_names: Array<string>;
  param_count: number;
  /** tfjs backend in use: tensorflow, wasm, cpu, ... */
  backend: string;
  host: string;
  grokstream_version: string;
  resumed_from_step: null | number;
  tags: Record<string, string>;
}

/** The cheap metrics of one optimisation step (definitions in docs/architecture.md, "Metrics"). */
export interface StepMetrics {
  event_id: string;
  run_id: string;
  seq: number;
  ts: number;
  step: number;
  train_loss: number;
  train_acc: null | number;
  /** Null between evaluations. */
  test_loss: null | number;
  test_acc: null | number;
  lr: number;
  /** sqrt(sum_l ||W_l||_F^2). */
  weight_norm: number;
  /** ||W_l||_F in RunStarted.layer_names order. */
  layer_norms: Array<number>;
  /** ||g||^2 of the batch gradient. */
  grad_norm_sq: null | number;
  update_norm: null | number;
  /** Fraction of training samples whose softmax normaliser rounds to exactly 1 (Prieto et al. 2025). */
  softmax_collapse_frac: null | number;
  /** ||W_last||_F: slingshot cycles show here first (Thilak et al. 2022). */
  last_layer_norm: null | number;
  /** ||theta - theta_0||, distance from initialisation. */
  init_distance: null | number;
  /** Task-specific per-step metrics (e.g. deep-linear balance differences). */
  extra: Record<string, number>;
}

/** Spectrum summary of GOP = (1/B) sum g_i g_i^T, from the B x B Gram matrix. */
export interface GopSummary {
  /** 'model' or a layer name. */
  scope: string;
  trace: number;
  frobenius: number;
  spectral: number;
  top_eigs: Array<number>;
  effective_rank: number;
  numerical_rank: number;
  condition_number: number;
}

/** The expensive probes of one step, from per-sample gradients on a probe batch. */
export interface ProbeSummary {
  event_id: string;
  run_id: string;
  seq: number;
  ts: number;
  step: number;
  probe_batch_size: number;
  /** Tr(Sigma). */
  grad_noise_trace: null | number;
  grad_snr: null | number;
  tr_h_sigma: null | number;
  /** One Hutchinson sample. */
  hessian_trace: null | number;
  /** Running average of the samples. */
  hessian_trace_avg: null | number;
  hessian_top_eig: null | number;
  gop: Array<GopSummary>;
  /** Task-specific probes, e.g. fourier_sparsity, agop_trace. */
  extra: Record<string, number>;
  elapsed_ms: null | number;
}

export interface Checkpointed {
  event_id: string;
  run_id: string;
  seq: number;
  ts: number;
  step: number;
  uri: string;
  bytes: number;
  sha256: null | string;
}

export type FinishReason = 'completed' | 'early_stopped' | 'failed' | 'interrupted';

export interface RunFinished {
  event_id: string;
  run_id: string;
  seq: number;
  ts: number;
  /** Last completed step. */
  step: number;
  reason: FinishReason;
  /** The StopRun obeyed, if any. */
  command_id: null | string;
  error: null | string;
  summary: Record<string, number>;
}

export type Phase = 'WARMUP' | 'MEMORIZATION' | 'PLATEAU' | 'GROKKING' | 'CONVERGED' | 'DEGRADATION' | 'DIVERGED';

export interface Evidence {
  window_start: number;
  window_end: number;
  values: Record<string, number>;
  thresholds: Record<string, number>;
}

/** A detector's verdict that a run entered a phase. Derived: replay recomputes it. */
export interface PhaseChanged {
  /** Deterministic from (run, detector, step, phase), so replay yields the same id. */
  event_id: string;
  run_id: string;
  seq: number;
  ts: number;
  step: number;
  phase: Phase;
  previous_phase: null | Phase;
  evidence: Evidence;
  detector: string;
  detector_version: string;
}

/** A command: stop the run at the next step boundary. Idempotent by command_id. */
export interface StopRun {
  event_id: string;
  run_id: string;
  seq: number;
  ts: number;
  command_id: string;
  /** patience, converged, degradation, no_grok_budget, divergence, manual. */
  policy: string;
  reason: string;
  /** The step whose evidence triggered the stop. */
  step: number;
  evidence: Evidence;
  issued_by: string;
}

/** A message that could not be decoded or validated, kept with its original bytes. */
export interface DeadLetter {
  event_id: string;
  /** The message key when there was one, else ''. */
  run_id: string;
  /** Per dead-letter producer. */
  seq: number;
  ts: number;
  source_topic: string;
  source_partition: number;
  source_offset: number;
  key: null | Buffer;
  payload: Buffer;
  /** bad-magic, truncated, unknown-fingerprint, malformed-body, ... */
  error_kind: string;
  reason: string;
  /** Consumer group that gave up on the message. */
  consumer: string;
}

/** Work for a worker: train one point of a sweep (grokstream sweep --kafka publishes it on the sweeps topic; grokstream worker processes take it). Idempotent by run_id: a point taken again resumes its run from the last checkpoint. */
export interface SweepPoint {
  event_id: string;
  /** The point's run id, the same every time the point is taken: <sweep_id>-p<point_index>. */
  run_id: string;
  /** The point's index in the sweep. */
  seq: number;
  ts: number;
  sweep_id: string;
  point_index: number;
  point_count: number;
  /** The point's key=value overrides of the base config, for people to read. */
  overrides: Array<string>;
  /** The resolved trainer config, tags included (canonical JSON). */
  config_json: string;
  config_hash: string;
  /** Where the point's checkpoints go: a directory every worker reaches; null: the worker's own --checkpoint-dir. */
  checkpoint_dir: null | string;
}

/** Flow control on the control topic: the detector has judged this run's events through `step`, and every StopRun they called for is on the topic before this. A trainer with a stop gate (run.stop_gate) trains at most `lag` steps past it, so a stop lands within lag + 1 steps of its trigger. Not stored. */
export interface DetectorProgress {
  event_id: string;
  run_id: string;
  seq: number;
  ts: number;
  /** The last step whose events the detector has judged. */
  step: number;
  issued_by: string;
}

export interface EventMap {
  RunStarted: RunStarted;
  StepMetrics: StepMetrics;
  ProbeSummary: ProbeSummary;
  Checkpointed: Checkpointed;
  RunFinished: RunFinished;
  PhaseChanged: PhaseChanged;
  StopRun: StopRun;
  DeadLetter: DeadLetter;
  SweepPoint: SweepPoint;
  DetectorProgress: DetectorProgress;
}

export type EventName = keyof EventMap;

export const EVENT_NAMES = ['RunStarted', 'StepMetrics', 'ProbeSummary', 'Checkpointed', 'RunFinished', 'PhaseChanged', 'StopRun', 'DeadLetter', 'SweepPoint', 'DetectorProgress'] as const satisfies readonly EventName[];
