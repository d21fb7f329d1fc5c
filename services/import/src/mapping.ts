// Which column of a log holds which grokstream field: `--map field=column` pairs first, then the
// names other trainers use (Keras CSVLogger, PyTorch Lightning CSVLogger, hand-written logs).
import { STEP_METRIC_FIELDS, type StepMetricField } from '@grokstream/schemas';
import { ImportError } from './errors.ts';

/** What a column can be mapped to: the step, the wall-clock time, or a numeric StepMetrics field. */
export type ImportField = 'step' | 'time' | StepMetricField;

export const IMPORT_FIELDS: readonly ImportField[] = ['step', 'time', ...STEP_METRIC_FIELDS];

/**
 * Names recognised without `--map`, best first: when a log has several (Lightning writes both
 * `step` and `epoch`), the first wins and the others stay columns of their own (StepMetrics.extra).
 * Column names are compared lowercased, with '/', '-', '.' and spaces read as '_' (so `val/loss`
 * is `val_loss`). A field not listed is recognised by its own name (e.g. `grad_norm_sq`).
 * Epoch-numbered logs (Keras) have no step column: step = epoch.
 */
export const WELL_KNOWN: Readonly<Partial<Record<ImportField, readonly string[]>>> = {
  step: ['step', 'global_step', 'iteration', 'epoch'],
  time: ['time', 'timestamp', 'wall_time', 'ts'],
  train_loss: ['train_loss', 'training_loss', 'loss'],
  train_acc: ['train_acc', 'train_accuracy', 'accuracy', 'acc'],
  test_loss: ['test_loss', 'val_loss', 'valid_loss'],
  test_acc: ['test_acc', 'test_accuracy', 'val_acc', 'val_accuracy', 'valid_acc', 'valid_accuracy'],
  lr: ['lr', 'learning_rate'],
  weight_norm: ['weight_norm'],
};

export interface Mapping {
  /** grokstream field -> source column, for the fields the log has. */
  fields: Partial<Record<ImportField, string>>;
  /** How each field got its column: a `--map` pair, or a well-known name. */
  origin: Partial<Record<ImportField, 'map' | 'automatic'>>;
  /** Columns no field uses, in file order: numeric ones go to StepMetrics.extra, the rest are ignored. */
  unmapped: string[];
}

const normalise = (column: string) => column.trim().toLowerCase().replace(/[/\-.\s]+/g, '_');

const list = (xs: readonly string[]) => xs.map((x) => `"${x}"`).join(', ');

/**
 * The mapping for a log with these columns. `map` holds the `--map field=column` pairs; they win
 * over the well-known names, and `field=` (no column) leaves a field out even when a column has
 * its well-known name. Throws ImportError for an unknown field, a column the log does not have,
 * one column for two fields, two equally good columns for one field, and a log with no step or
 * no train loss column. `source` only prefixes the messages.
 */
export function resolveMapping(columns: string[], map: Record<string, string>, source?: string): Mapping {
  const at = source ? `${source}: ` : '';
  const present = columns.length > 0 ? list(columns) : 'none';
  const fields: Partial<Record<ImportField, string>> = {};
  const origin: Partial<Record<ImportField, 'map' | 'automatic'>> = {};
  const omitted = new Set<ImportField>();
  const claimedBy = new Map<string, ImportField>();

  for (const [rawField, rawColumn] of Object.entries(map)) {
    const field = rawField.trim() as ImportField;
    const column = rawColumn.trim();
    if (!IMPORT_FIELDS.includes(field)) {
      throw new ImportError('unknown-field', `${at}--map ${rawField}=${rawColumn}: "${rawField}" is not a grokstream field; the fields are ${IMPORT_FIELDS.join(', ')}`);
    }
    if (column === '') {
      omitted.add(field);
      continue;
    }
    if (!columns.includes(column)) {
      throw new ImportError('unknown-column', `${at}--map ${field}=${column}: the log has no column "${column}"; its columns are ${present}`);
    }
    const other = claimedBy.get(column);
    if (other !== undefined) {
      throw new ImportError('column-twice', `${at}--map: column "${column}" is mapped to both ${other} and ${field}; map it to one field`);
    }
    fields[field] = column;
    origin[field] = 'map';
    claimedBy.set(column, field);
  }

  for (const field of IMPORT_FIELDS) {
    if (fields[field] !== undefined || omitted.has(field)) continue;
    for (const name of WELL_KNOWN[field] ?? [field]) {
      const matches = columns.filter((c) => !claimedBy.has(c) && normalise(c) === name);
      if (matches.length > 1) {
        throw new ImportError(
          'ambiguous-column',
          `${at}columns ${list(matches)} could both be ${field}; choose one with --map ${field}=COLUMN`,
        );
      }
      const column = matches[0];
      if (column !== undefined) {
        fields[field] = column;
        origin[field] = 'automatic';
        claimedBy.set(column, field);
        break;
      }
    }
  }

  if (fields.step === undefined) {
    throw new ImportError(
      'no-step-column',
      `${at}no column holds the step (looked for ${list(WELL_KNOWN.step!)}); name it with --map step=COLUMN (columns: ${present})`,
    );
  }
  if (fields.train_loss === undefined) {
    throw new ImportError(
      'no-train-loss-column',
      `${at}no column holds the train loss (looked for ${list(WELL_KNOWN.train_loss!)}); name it with --map train_loss=COLUMN (columns: ${present})`,
    );
  }
  return { fields, origin, unmapped: columns.filter((c) => !claimedBy.has(c)) };
}
