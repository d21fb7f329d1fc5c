// Writes keras-csvlogger.csv: a real grokking curve in the layout of Keras' CSVLogger
// (epoch, then the metrics in sorted order), for trying `grokstream import` on a foreign log.
//
// Source: services/detector/eval/real/modular-sub-seed0.jsonl, a grokstream trainer run recorded
// for the detector's evaluation (services/detector/scripts/record-real-runs.ts:
// examples/modular-addition-grokking.yaml with task.op=sub run.steps=1200, i.e. (a − b) mod 59,
// quadratic MLP, AdamW, full batch, seed 0): it fits its train set by step 132 while test accuracy
// is 4%, and reaches 95% test accuracy at step 495.
// One row per step (1200 rows, under the 2000 that would call for every k-th step); `epoch`
// holds the recorded step number (1..1200), so the rows line up with the recorded run; values are
// rounded to 6 significant digits.
//
//   pnpm exec tsx examples/imported/make-keras-csv.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const SOURCE = join(ROOT, 'services', 'detector', 'eval', 'real', 'modular-sub-seed0.jsonl');
const TARGET = join(import.meta.dirname, 'keras-csvlogger.csv');
const MAX_ROWS = 2000;

interface Recorded {
  step: number;
  train_loss: number;
  train_acc: number | null;
  test_loss: number | null;
  test_acc: number | null;
}

/** 6 significant digits, without trailing zeros; a missing value is an empty cell, NaN `nan` as Keras writes it. */
function cell(v: number | null): string {
  if (v === null) return '';
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return String(Number(v.toPrecision(6)));
}

const steps = readFileSync(SOURCE, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as Recorded)
  .sort((a, b) => a.step - b.step);
const every = Math.ceil(steps.length / MAX_ROWS);
const rows = steps.filter((_, i) => i % every === 0 || i === steps.length - 1);

const lines = [
  'epoch,accuracy,loss,val_accuracy,val_loss',
  ...rows.map((s) => [String(s.step), cell(s.train_acc), cell(s.train_loss), cell(s.test_acc), cell(s.test_loss)].join(',')),
];
writeFileSync(TARGET, `${lines.join('\n')}\n`);
console.log(`wrote ${TARGET}: ${rows.length} rows (every ${every} of ${steps.length} steps)`);
