// The numeric StepMetrics fields: the curves a detector policy may monitor and the store's rollups
// keep per step bucket (bookkeeping fields seq, ts and step excluded). A spec checks the list
// against the StepMetrics schema, so a new numeric field cannot be forgotten here.
import type { StepMetrics } from './events.generated.ts';

export const STEP_METRIC_FIELDS = [
  'train_loss',
  'train_acc',
  'test_loss',
  'test_acc',
  'lr',
  'weight_norm',
  'grad_norm_sq',
  'update_norm',
  'softmax_collapse_frac',
  'last_layer_norm',
  'init_distance',
] as const satisfies readonly (keyof StepMetrics)[];

export type StepMetricField = (typeof STEP_METRIC_FIELDS)[number];
