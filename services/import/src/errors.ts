// The one error kind of the import library. A plain Error subclass, not @grokstream/shell's
// ConfigurationError: the shell's index loads the bus and the store (Kafka, ClickHouse clients),
// which a pure library should not drag in. The CLI turns an ImportError into its own kind.

/**
 * What went wrong, for a caller that wants more than the message:
 * - mapping: a `--map` pair or the columns (unknown field, missing column, no step or train loss
 *   column, two fields on one column, two columns for one field): fixed on the command line.
 * - data: the file itself (not CSV/JSON, a cell that is not a number, a bad step or time, a step
 *   logged twice with different values, nothing to import): fixed in the file.
 */
export type ImportErrorCode =
  | 'unknown-format'
  | 'empty'
  | 'bad-header'
  | 'bad-syntax'
  | 'unknown-field'
  | 'unknown-column'
  | 'column-twice'
  | 'ambiguous-column'
  | 'no-step-column'
  | 'no-train-loss-column'
  | 'not-a-number'
  | 'bad-step'
  | 'bad-time'
  | 'duplicate-step'
  | 'no-rows';

const MAPPING_CODES: ReadonlySet<ImportErrorCode> = new Set([
  'unknown-field',
  'unknown-column',
  'column-twice',
  'ambiguous-column',
  'no-step-column',
  'no-train-loss-column',
]);

/** A log that cannot be imported as it is. The message names the file, line and column, and the way out. */
export class ImportError extends Error {
  override readonly name = 'ImportError';
  constructor(
    readonly code: ImportErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** 'mapping' when the fix is on the command line (`--map`), 'data' when it is in the file. */
  get kind(): 'mapping' | 'data' {
    return MAPPING_CODES.has(this.code) ? 'mapping' : 'data';
  }
}
