// What a sweep's trainer process and its pool say to each other (beside the remote bus's own
// messages, on the same IPC channel): trainer-pool.ts (the parent) and sweep-trainer.ts (the child).
import type { StepMetrics } from '@grokstream/schemas';
import type { RunConfig, RunSummary } from '@grokstream/trainer';

export interface TrainJob {
  /** The pool's number for the job (not the sweep point's index). */
  job: number;
  cfg: RunConfig;
  runId: string;
  configJson: string;
  eventsFile?: string;
  partitions: number;
}

export type ToTrainer = { k: 'train'; job: TrainJob } | { k: 'interrupt' } | { k: 'exit' };

export type FromTrainer =
  | { k: 'ready'; pid: number }
  | { k: 'step'; job: number; m: StepMetrics; rate: number }
  | { k: 'log'; job: number; line: string }
  | { k: 'trained'; job: number; summary: RunSummary }
  | { k: 'train-failed'; job: number; error: string };

const KINDS = new Set(['ready', 'step', 'log', 'trained', 'train-failed', 'train', 'interrupt', 'exit']);

/** A pool message (not one of the remote bus's). */
export function isTrainerMessage(m: unknown): m is FromTrainer | ToTrainer {
  return typeof m === 'object' && m !== null && KINDS.has((m as { k?: unknown }).k as string);
}
