// @grokstream/import: training logs written by other trainers (Keras CSVLogger, PyTorch Lightning
// CSVLogger, JSON Lines) turned into grokstream events. Pure: the caller reads the file, passes
// the clock, and sends or stores the events (`grokstream import`). Conventions: README.md.
export { ImportError, type ImportErrorCode } from './errors.ts';
export { parseLog, cellOf, formatOf, type Cell, type LogFormat, type LogRow, type LogRows } from './parse-log.ts';
export { resolveMapping, IMPORT_FIELDS, WELL_KNOWN, type ImportField, type Mapping } from './mapping.ts';
export {
  logToEvents,
  IMPORT_VERSION,
  IMPORTED,
  UNKNOWN_SEED,
  type ImportOptions,
  type ImportResult,
  type SkippedRow,
} from './to-events.ts';
