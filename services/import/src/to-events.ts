// A parsed log and its mapping turned into the events a grokstream trainer would have sent:
// RunStarted, one StepMetrics per step in step order, RunFinished. Pure: the caller passes the
// clock (nowMs) and does the I/O.
//
// What the log does not have is never made up (see README.md, "Missing values"):
// - nullable StepMetrics fields (train_acc, test_loss, test_acc, grad_norm_sq, update_norm,
//   softmax_collapse_frac, last_layer_norm, init_distance): null, as the trainer sends between
//   evaluations; every detector and the store read null as "not measured".
// - lr and weight_norm are required doubles: NaN, as the detector's JSON Lines reader
//   (services/detector/src/jsonl.ts) already does. No detector reads lr; the phase machine and the
//   divergence policy never read either; no_grok_budget reads weight_norm through finiteOrNull, so
//   NaN is "no sample". 0 would be a made-up value (a weight norm of 0 is a dead network).
// - train_loss is required and NaN there means "diverged" to the phase machine and the divergence
//   policy, so a step without a train loss cannot be imported honestly: it is left out and
//   reported (ImportResult.skipped); a log with no train loss column at all is an ImportError.
//   A train loss the log *records* as nan or inf is kept: that run did diverge.
// - layer_norms: []; RunStarted: model '' (the store's run_summary shows '' as NULL), layer_names
//   [], param_count 0 (no network has 0 parameters), seeds -1 (the trainer's seeds are 0..2^32-1),
//   host '' (where it ran is unknown), task and backend 'imported', resumed_from_step null.
import type { AnyEvent, RunFinished, RunStarted, StepMetrics } from '@grokstream/schemas';
import { ImportError } from './errors.ts';
import { deterministicId } from '@grokstream/schemas';
import type { Cell, LogRow, LogRows } from './parse-log.ts';
import { IMPORT_FIELDS, type ImportField, type Mapping } from './mapping.ts';

/** This library's version, recorded as RunStarted.grokstream_version (a spec keeps it equal to package.json's). */
export const IMPORT_VERSION = '0.1.0';

/** RunStarted.task and RunStarted.backend of an imported run: what produced it is not a grokstream trainer. */
export const IMPORTED = 'imported';

/** RunStarted.seeds of an imported run: -1, outside the trainer's 0..2^32-1, means "unknown". */
export const UNKNOWN_SEED = -1;

export interface ImportOptions {
  runId: string;
  /** The run's name (the trainer's run.name), recorded in config_json. */
  name: string;
  /** The file, as the user named it; recorded in config_json. */
  source: string;
  /** The import's clock: the events' ts when the log has no time column. */
  nowMs: number;
  tags?: Record<string, string>;
}

/** A step left out because no row of it has a train loss. */
export interface SkippedRow {
  line: number;
  step: number;
}

export interface ImportResult {
  events: AnyEvent[];
  /** How many StepMetrics events. */
  steps: number;
  /** Unmapped numeric columns, carried in StepMetrics.extra under their own names. */
  extra: string[];
  /** Unmapped columns left out: text in some row, or no value in any row. */
  ignored: string[];
  /** Steps with no train loss (e.g. a Lightning validation row at a step with no training row). */
  skipped: SkippedRow[];
}

/** The fields logToEvents reads as plain numbers (step and time have their own rules). */
const METRICS = IMPORT_FIELDS.filter((f): f is Exclude<ImportField, 'step' | 'time'> => f !== 'step' && f !== 'time');

const EARLIEST_MS = Date.UTC(2000, 0, 1);
const LATEST_MS = 8.64e15; // the largest Date
/** Numbers below this are Unix seconds, above it milliseconds (1e11 s is the year 5138, 1e11 ms 1973). */
const SECONDS_BELOW = 1e11;

interface StepEntry {
  step: number;
  line: number;
  /** By used column (see `slots`): its number (time as ms), or undefined; and the line that gave it. */
  values: Array<number | undefined>;
  lines: number[];
}

const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));

/**
 * The events of an imported run. Throws ImportError for a mapped cell that is not a number, a step
 * that is not a whole number ≥ 0, a time that is not one, and two rows of the same step whose
 * values differ. Rows of the same step that agree, or fill different columns, are one step
 * (Lightning's CSVLogger writes training and validation metrics of a step as separate rows).
 */
export function logToEvents(rows: LogRows, mapping: Mapping, o: ImportOptions): ImportResult {
  const { source } = rows;
  const word = rows.format === 'csv' ? 'column' : 'key';
  const f = mapping.fields;
  const stepColumn = f.step;
  const lossColumn = f.train_loss;
  if (stepColumn === undefined || lossColumn === undefined) throw new Error('logToEvents: the mapping has no step or train_loss column (resolveMapping ensures both)');

  // Unmapped columns: numbers in every row that has a value -> extra; any text, or no value at all -> ignored.
  const extra: string[] = [];
  const ignored: string[] = [];
  for (const column of mapping.unmapped) {
    const cells = rows.rows.map((r) => r.cells.get(column) ?? null);
    if (cells.some((c) => typeof c === 'string') || cells.every((c) => c === null)) ignored.push(column);
    else extra.push(column);
  }

  const WAY_OUT: Record<string, string> = {
    step: 'correct it, or name the step column with --map step=COLUMN',
    train_loss: 'correct it, leave it empty for "no value" (the step is then left out), or name the train loss column with --map train_loss=COLUMN',
  };
  const notANumber = (row: LogRow, column: string, text: string, field: string) =>
    new ImportError(
      'not-a-number',
      `${source} line ${row.line}: ${word} "${column}" is ${JSON.stringify(text)}, not a number; ` +
        (WAY_OUT[field] ?? `correct it, leave it empty for "no value", or import without it (--map ${field}=)`),
    );

  const timeOf = (row: LogRow, column: string): number => {
    const cell: Cell = row.cells.get(column) ?? null;
    if (cell === null) {
      throw new ImportError(
        'bad-time',
        `${source} line ${row.line}: ${word} "${column}" (the time) is empty; give every row its time, or import without it (--map time=) to date the events at the import`,
      );
    }
    const ms = typeof cell === 'number' ? (cell < SECONDS_BELOW ? cell * 1000 : cell) : Date.parse(cell);
    if (!(ms >= EARLIEST_MS && ms <= LATEST_MS)) {
      throw new ImportError(
        'bad-time',
        `${source} line ${row.line}: ${word} "${column}" is ${JSON.stringify(cell)}, not a time since 2000 (Unix seconds or milliseconds, ` +
          `or an ISO 8601 date such as 2024-05-01T12:00:00Z); if it is something else (e.g. seconds elapsed), import without it (--map time=)`,
      );
    }
    return Math.round(ms);
  };

  const stepOf = (row: LogRow): number => {
    const cell: Cell = row.cells.get(stepColumn) ?? null;
    if (cell === null) throw new ImportError('bad-step', `${source} line ${row.line}: ${word} "${stepColumn}" (the step) is empty; every row needs its step`);
    if (typeof cell === 'string') throw notANumber(row, stepColumn, cell, 'step');
    if (!Number.isSafeInteger(cell) || cell < 0) {
      throw new ImportError(
        'bad-step',
        `${source} line ${row.line}: ${word} "${stepColumn}" (the step) is ${cell}, not a whole number ≥ 0; steps count optimisation steps or epochs`,
      );
    }
    return cell;
  };

  // The columns that become event fields, and the field each one feeds (for messages).
  const used: Array<[column: string, field: string]> = [
    ...METRICS.flatMap((field): Array<[string, string]> => (f[field] === undefined ? [] : [[f[field]!, field]])),
    ...extra.map((c): [string, string] => [c, c]),
  ];

  // Slot of each used column in StepEntry.values: the metric and extra columns, then the time.
  const slots = new Map<string, number>(used.map(([column], i) => [column, i]));
  const timeSlot = f.time === undefined ? -1 : used.length;
  const width = used.length + (timeSlot < 0 ? 0 : 1);
  const slotOf = (column: string | undefined) => (column === undefined ? -1 : (slots.get(column) ?? -1));

  const bySteps = new Map<number, StepEntry>();
  for (const row of rows.rows) {
    const step = stepOf(row);
    let entry = bySteps.get(step);
    if (!entry) bySteps.set(step, (entry = { step, line: row.line, values: new Array<number | undefined>(width), lines: new Array<number>(width) }));
    const put = (slot: number, column: string, value: number) => {
      const before = entry!.values[slot];
      if (before === undefined) {
        entry!.values[slot] = value;
        entry!.lines[slot] = row.line;
      } else if (!same(before, value)) {
        throw new ImportError(
          'duplicate-step',
          `${source} lines ${entry!.lines[slot]} and ${row.line} both hold step ${step}, with different values of "${column}" ` +
            `(${before} and ${value}); keep one of the two rows (a log appended to by a restarted run?)`,
        );
      }
    };
    for (let i = 0; i < used.length; i++) {
      const [column, field] = used[i]!;
      const cell: Cell = row.cells.get(column) ?? null;
      if (typeof cell === 'string') throw notANumber(row, column, cell, field);
      if (cell !== null) put(i, column, cell);
    }
    if (f.time !== undefined) put(timeSlot, f.time, timeOf(row, f.time));
  }

  const lossSlot = slotOf(lossColumn);
  const skipped: SkippedRow[] = [];
  const entries = [...bySteps.values()].sort((a, b) => a.step - b.step).filter((e) => {
    if (e.values[lossSlot] !== undefined) return true;
    skipped.push({ line: e.line, step: e.step });
    return false;
  });
  if (entries.length === 0) {
    throw new ImportError(
      'no-rows',
      `${source}: no row has a train loss in ${word} "${lossColumn}"; a grokstream step needs one (is --map train_loss=${lossColumn} the right column?)`,
    );
  }

  let seq = 0;
  const envelope = (name: 'RunStarted' | 'RunFinished', ts: number) => ({ event_id: deterministicId('import', o.runId, name), run_id: o.runId, seq: seq++, ts });
  // ts: the log's time column when it has one; else the import's clock plus the step in ms, so
  // the events' times keep the steps' order (and a RunStarted at nowMs comes first).
  const tsOf = (e: StepEntry) => (timeSlot >= 0 ? e.values[timeSlot]! : o.nowMs + e.step);
  const last = entries[entries.length - 1]!;

  const started: RunStarted = {
    ...envelope('RunStarted', f.time !== undefined ? entries.reduce((t, e) => Math.min(t, tsOf(e)), Infinity) : o.nowMs),
    config_json: configJson(o, rows, mapping, extra, ignored, skipped.length),
    seeds: { data: UNKNOWN_SEED, init: UNKNOWN_SEED, order: UNKNOWN_SEED },
    task: IMPORTED,
    model: '',
    layer_names: [],
    param_count: 0,
    backend: IMPORTED,
    host: '',
    grokstream_version: IMPORT_VERSION,
    resumed_from_step: null,
    tags: { ...o.tags },
  };
  const events: AnyEvent[] = [{ name: 'RunStarted', value: started }];

  const fieldSlots = Object.fromEntries(METRICS.map((field) => [field, slotOf(f[field])])) as Record<(typeof METRICS)[number], number>;
  const extraSlots = extra.map((column) => [column, slotOf(column)] as const);
  let lastTs = started.ts;
  for (const e of entries) {
    const get = (field: (typeof METRICS)[number]): number | null => e.values[fieldSlots[field]] ?? null;
    const ts = tsOf(e);
    lastTs = Math.max(lastTs, ts);
    // Fields spelled out, not spread from envelope(): V8 builds a spread-then-extended literal
    // about 20 times slower, which shows at a few hundred thousand steps.
    const metrics: StepMetrics = {
      event_id: deterministicId('import', o.runId, 'StepMetrics', e.step),
      run_id: o.runId,
      seq: seq++,
      ts,
      step: e.step,
      train_loss: get('train_loss')!,
      train_acc: get('train_acc'),
      test_loss: get('test_loss'),
      test_acc: get('test_acc'),
      lr: get('lr') ?? NaN,
      weight_norm: get('weight_norm') ?? NaN,
      layer_norms: [],
      grad_norm_sq: get('grad_norm_sq'),
      update_norm: get('update_norm'),
      softmax_collapse_frac: get('softmax_collapse_frac'),
      last_layer_norm: get('last_layer_norm'),
      init_distance: get('init_distance'),
      // fromEntries defines own properties, so even a column named __proto__ is just a key.
      extra: Object.fromEntries(extraSlots.flatMap(([c, slot]) => (e.values[slot] === undefined ? [] : [[c, e.values[slot]]]))),
    };
    events.push({ name: 'StepMetrics', value: metrics });
  }

  const finished: RunFinished = {
    ...envelope('RunFinished', f.time !== undefined ? lastTs : o.nowMs + last.step),
    step: last.step,
    reason: 'completed',
    command_id: null,
    error: null,
    summary: {},
  };
  events.push({ name: 'RunFinished', value: finished });
  return { events, steps: entries.length, extra, ignored, skipped };
}

/**
 * RunStarted.config_json of an imported run: where it came from and how its columns were read.
 * The mapping is a list of {field, column} objects, never an object keyed by field: the store reads
 * hyperparameters out of config_json by key name at any depth (services/store/src/rollups.ts,
 * HYPERPARAMETERS: "lr", "weight_decay", "width", ...), so a key "lr" naming a column would show
 * up as a learning rate of 0 in run_summary.
 */
function configJson(o: ImportOptions, rows: LogRows, mapping: Mapping, extra: string[], ignored: string[], skipped: number): string {
  const fields = IMPORT_FIELDS.flatMap((field) => {
    const column = mapping.fields[field];
    return column === undefined ? [] : [{ field, column, from: mapping.origin[field] ?? 'map' }];
  });
  return JSON.stringify({
    run: { name: o.name },
    import: { source: o.source, format: rows.format, mapping: fields, extra, ignored, rows: rows.rows.length, skipped_steps: skipped },
  });
}
