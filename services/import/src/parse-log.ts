// Training logs written by other trainers, read into rows of cells: CSV with a header row (Keras
// CSVLogger, PyTorch Lightning CSVLogger, pandas' to_csv) or JSON Lines (one object per line).
// Nothing here knows what a column means: resolveMapping (mapping.ts) decides that, and
// logToEvents (to-events.ts) checks that the cells it uses are numbers.
import { parse as parseCsv } from 'csv-parse/sync';
import { ImportError } from './errors.ts';

export type LogFormat = 'csv' | 'jsonl';

/**
 * One cell: a number (NaN and ±Infinity included: the logger wrote `nan` or `inf`), text that is
 * not a number, or null: no value (an empty cell, `NA` as Keras writes for a metric it did not
 * get, `null`, `None`, or a JSON key the line does not have).
 */
export type Cell = number | string | null;

export interface LogRow {
  /** 1-based line of the file the row comes from (for CSV, the line its record ends on). */
  line: number;
  /** Column name -> cell. A Map, so that a column called `__proto__` is just a column. */
  cells: ReadonlyMap<string, Cell>;
}

export interface LogRows {
  /** The file as the user named it; every error message starts with it. */
  source: string;
  format: LogFormat;
  /** Columns in file order (JSON Lines: in the order keys first appear; nested keys as `a.b`). */
  columns: string[];
  rows: LogRow[];
}

const MISSING = new Set(['', 'na', 'n/a', 'null', 'none']);
const POSITIVE_INFINITY = new Set(['inf', '+inf', 'infinity', '+infinity']);
const NEGATIVE_INFINITY = new Set(['-inf', '-infinity']);
const NOT_A_NUMBER = new Set(['nan', '+nan', '-nan']);
/** Plain decimal notation only: Number() would also take '0x1f', '1_000' is refused, ' ' is 0. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A cell from its text: see Cell. Case does not matter for the words (NaN, Inf, NA, None). */
export function cellOf(text: string): Cell {
  const t = text.trim();
  const lower = t.toLowerCase();
  if (MISSING.has(lower)) return null;
  if (NOT_A_NUMBER.has(lower)) return NaN;
  if (POSITIVE_INFINITY.has(lower)) return Infinity;
  if (NEGATIVE_INFINITY.has(lower)) return -Infinity;
  if (DECIMAL.test(t)) return Number(t);
  return t;
}

/** The format a file name implies, or undefined. */
export function formatOf(source: string): LogFormat | undefined {
  const lower = source.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  return undefined;
}

/**
 * Reads a log into rows. `format` defaults to the file's extension (.csv; .jsonl or .ndjson).
 * Throws ImportError naming the file and line: not CSV or JSON, no header, a row with more or
 * fewer values than the header has columns.
 */
export function parseLog(text: string, source: string, format?: LogFormat): LogRows {
  const f = format ?? formatOf(source);
  if (!f) {
    throw new ImportError(
      'unknown-format',
      `${source}: cannot tell the log format from the file name; name it .csv (a header row, then one row per step) or .jsonl (one JSON object per step)`,
    );
  }
  const rows = f === 'csv' ? parseCsvLog(text, source) : parseJsonLines(text, source);
  if (rows.rows.length === 0) {
    throw new ImportError('empty', `${source}: no rows to import${f === 'csv' && rows.columns.length > 0 ? ' (only the header row)' : ''}`);
  }
  return rows;
}

interface CsvErrorLike {
  code?: string;
  lines?: number;
  record?: unknown[];
  message: string;
}

function parseCsvLog(text: string, source: string): LogRows {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parseCsv(text, { bom: true, info: true, skip_empty_lines: true, trim: true }) as unknown as typeof records;
  } catch (err) {
    const e = err as CsvErrorLike;
    if (typeof e.code !== 'string' || (!e.code.startsWith('CSV_') && e.code !== 'INVALID_OPENING_QUOTE')) throw err;
    const where = e.lines ? `${source} line ${e.lines}` : source;
    if (e.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH' && Array.isArray(e.record)) {
      const expected = /expect (\d+)/.exec(e.message)?.[1];
      throw new ImportError(
        'bad-syntax',
        `${where}: ${e.record.length} values, but the header row names ${expected ?? 'a different number of'} columns; ` +
          'give every row one value per column (an empty cell for no value)',
      );
    }
    throw new ImportError('bad-syntax', `${where}: not valid CSV (${e.message}); fix the file or export it again`);
  }
  const [header, ...body] = records;
  if (!header) throw new ImportError('empty', `${source}: the file is empty; a CSV log needs a header row naming its columns, then one row per step`);
  const columns = header.record.map((c) => c.trim());
  const line = header.info.lines;
  columns.forEach((c, i) => {
    if (c === '') throw new ImportError('bad-header', `${source} line ${line}: column ${i + 1} of the header row has no name; name every column`);
    const first = columns.indexOf(c);
    if (first !== i) {
      throw new ImportError('bad-header', `${source} line ${line}: column "${c}" appears twice in the header row (columns ${first + 1} and ${i + 1}); rename one of them`);
    }
  });
  if (columns.every((c) => typeof cellOf(c) === 'number')) {
    throw new ImportError(
      'bad-header',
      `${source} line ${line}: the first row holds numbers, not column names; a CSV log needs a header row first (e.g. epoch,loss,accuracy,val_loss,val_accuracy)`,
    );
  }
  const rows = body.map(({ record, info }) => ({
    line: info.lines,
    cells: new Map(columns.map((c, i): [string, Cell] => [c, cellOf(record[i] ?? '')])),
  }));
  return { source, format: 'csv', columns, rows };
}

/**
 * Python's json module writes NaN, Infinity and -Infinity bare, which JSON.parse refuses: quote
 * them (outside strings only) so they become cells like CSV's `nan` and `inf`.
 */
function quoteBareNonFinite(line: string): string {
  if (!line.includes('NaN') && !line.includes('Infinity')) return line;
  let out = '';
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += line[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const bare = /^(?:-?Infinity|NaN)/.exec(line.slice(i, i + 9))?.[0];
    if (bare) {
      out += `"${bare}"`;
      i += bare.length - 1;
      continue;
    }
    out += c;
  }
  return out;
}

/** Cells of one JSON value: nested objects flattened with '.', arrays and booleans kept as text. */
function flatten(value: unknown, prefix: string, out: Map<string, Cell>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix === '' ? k : `${prefix}.${k}`, out);
    return;
  }
  if (value === null) out.set(prefix, null);
  else if (typeof value === 'number') out.set(prefix, value);
  else if (typeof value === 'string') out.set(prefix, cellOf(value));
  else out.set(prefix, JSON.stringify(value));
}

function parseJsonLines(text: string, source: string): LogRows {
  const columns: string[] = [];
  const seen = new Set<string>();
  const rows: LogRow[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = i + 1;
      if (raw.trim() === '') return;
      const quoted = quoteBareNonFinite(raw);
      let value: unknown;
      try {
        value = JSON.parse(quoted);
      } catch (err) {
        const message = (err as Error).message;
        const position = /at position (\d+)/.exec(message)?.[1];
        const where = position !== undefined && quoted === raw ? `line ${line} column ${Number(position) + 1}` : `line ${line}`;
        const why = message.replace(/ in JSON at position \d+.*$/, '').replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, '');
        throw new ImportError('bad-syntax', `${source} ${where}: not JSON (${why}); each line must be one JSON object, e.g. {"step": 1, "train_loss": 2.3}`);
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        const got = Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
        throw new ImportError('bad-syntax', `${source} line ${line}: ${got}, not a JSON object; each line must be one object, e.g. {"step": 1, "train_loss": 2.3}`);
      }
      const cells = new Map<string, Cell>();
      flatten(value, '', cells);
      for (const c of cells.keys()) {
        if (!seen.has(c)) {
          seen.add(c);
          columns.push(c);
        }
      }
      rows.push({ line, cells });
    });
  return { source, format: 'jsonl', columns, rows };
}
