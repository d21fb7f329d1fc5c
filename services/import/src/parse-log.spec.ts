import { describe, expect, it } from 'vitest';
import { ImportError } from './errors.ts';
import { cellOf, formatOf, parseLog } from './parse-log.ts';
import { importErrorOf } from './testing.ts';

describe('cells', () => {
  it('reads numbers, non-finite words, missing values and text', () => {
    expect(cellOf('0.25')).toBe(0.25);
    expect(cellOf(' -1.5e-3 ')).toBe(-0.0015);
    expect(cellOf('.5')).toBe(0.5);
    expect(cellOf('7.')).toBe(7);
    for (const nan of ['nan', 'NaN', 'NAN', '-nan']) expect(cellOf(nan)).toBeNaN();
    for (const inf of ['inf', 'Inf', '+inf', 'Infinity']) expect(cellOf(inf)).toBe(Infinity);
    for (const inf of ['-inf', '-Infinity']) expect(cellOf(inf)).toBe(-Infinity);
    for (const missing of ['', '  ', 'NA', 'n/a', 'null', 'None']) expect(cellOf(missing)).toBeNull();
    // Number() would take these; a log never means them as numbers.
    for (const text of ['0x1f', '1_000', 'abc', '1,5', '2024-05-01']) expect(cellOf(text)).toBe(text);
  });

  it('tells the format from the extension', () => {
    expect(formatOf('runs/epochs.csv')).toBe('csv');
    expect(formatOf('LOG.CSV')).toBe('csv');
    expect(formatOf('metrics.jsonl')).toBe('jsonl');
    expect(formatOf('metrics.ndjson')).toBe('jsonl');
    expect(formatOf('metrics.json')).toBeUndefined();
  });
});

describe('CSV logs', () => {
  it('reads the header and one row per line, with line numbers', () => {
    const text = '\uFEFFepoch,accuracy,loss,val_accuracy,val_loss\r\n0,0.1,2.5,NA,\r\n\r\n1,0.2,nan,0.05,inf\r\n2,0.3,1.5,"0.07",text\r\n';
    const log = parseLog(text, 'epochs.csv');
    expect(log.format).toBe('csv');
    expect(log.source).toBe('epochs.csv');
    expect(log.columns).toEqual(['epoch', 'accuracy', 'loss', 'val_accuracy', 'val_loss']);
    expect(log.rows.map((r) => r.line)).toEqual([2, 4, 5]);
    expect(Object.fromEntries(log.rows[0]!.cells)).toEqual({ epoch: 0, accuracy: 0.1, loss: 2.5, val_accuracy: null, val_loss: null });
    expect(log.rows[1]!.cells.get('loss')).toBeNaN();
    expect(log.rows[1]!.cells.get('val_loss')).toBe(Infinity);
    expect(log.rows[2]!.cells.get('val_accuracy')).toBe(0.07);
    expect(log.rows[2]!.cells.get('val_loss')).toBe('text');
  });

  it('takes the format from the argument over the extension', () => {
    const log = parseLog('step,loss\n1,2\n', 'export.txt', 'csv');
    expect(log.rows).toHaveLength(1);
    expect(() => parseLog('step,loss\n1,2\n', 'export.txt')).toThrow(
      new ImportError('unknown-format', 'export.txt: cannot tell the log format from the file name; name it .csv (a header row, then one row per step) or .jsonl (one JSON object per step)'),
    );
  });

  it('names the file and line of every problem, and the way out', () => {
    const cases: Array<[string, string, string]> = [
      ['', 'empty', 'e.csv: the file is empty; a CSV log needs a header row naming its columns, then one row per step'],
      ['step,loss\n', 'empty', 'e.csv: no rows to import (only the header row)'],
      ['1,2.5\n2,2.4\n', 'bad-header', 'e.csv line 1: the first row holds numbers, not column names; a CSV log needs a header row first (e.g. epoch,loss,accuracy,val_loss,val_accuracy)'],
      ['step,loss,loss\n1,2,3\n', 'bad-header', 'e.csv line 1: column "loss" appears twice in the header row (columns 2 and 3); rename one of them'],
      ['step,,loss\n1,2,3\n', 'bad-header', 'e.csv line 1: column 2 of the header row has no name; name every column'],
      ['step,loss\n1,2\n2\n', 'bad-syntax', 'e.csv line 3: 1 values, but the header row names 2 columns; give every row one value per column (an empty cell for no value)'],
      ['step,loss\n1,2\n2,3,4\n', 'bad-syntax', 'e.csv line 3: 3 values, but the header row names 2 columns; give every row one value per column (an empty cell for no value)'],
    ];
    for (const [text, code, message] of cases) {
      const err = importErrorOf(() => parseLog(text, 'e.csv'));
      expect(err.message).toBe(message);
      expect(err.code).toBe(code);
      expect(err.kind).toBe('data');
    }
    const quote = importErrorOf(() => parseLog('step,loss\n1,"2\n', 'e.csv'));
    expect(quote.code).toBe('bad-syntax');
    expect(quote.message).toMatch(/^e\.csv line 2: not valid CSV \(Quote Not Closed.*\); fix the file or export it again$/);
  });
});

describe('JSON Lines logs', () => {
  it('reads one object per line, skipping blank lines, with Python non-finite floats', () => {
    const text = [
      '{"step": 1, "loss": 2.5, "note": "warm NaN up"}',
      '',
      '   ',
      '{"step": 2, "loss": NaN, "val": {"loss": Infinity, "acc": -Infinity}, "flag": true}',
      '{"step": 3, "loss": "1.5", "lr": null, "tags": [1, 2]}',
    ].join('\n');
    const log = parseLog(text, 'run.jsonl');
    expect(log.format).toBe('jsonl');
    expect(log.rows.map((r) => r.line)).toEqual([1, 4, 5]);
    expect(log.columns).toEqual(['step', 'loss', 'note', 'val.loss', 'val.acc', 'flag', 'lr', 'tags']);
    expect(log.rows[0]!.cells.get('note')).toBe('warm NaN up'); // a NaN inside a string is text
    expect(log.rows[1]!.cells.get('loss')).toBeNaN();
    expect(log.rows[1]!.cells.get('val.loss')).toBe(Infinity);
    expect(log.rows[1]!.cells.get('val.acc')).toBe(-Infinity);
    expect(log.rows[1]!.cells.get('flag')).toBe('true');
    expect(log.rows[2]!.cells.get('loss')).toBe(1.5);
    expect(log.rows[2]!.cells.get('lr')).toBeNull();
    expect(log.rows[2]!.cells.get('tags')).toBe('[1,2]');
    expect(log.rows[0]!.cells.has('lr')).toBe(false); // a key a line lacks is no value
  });

  it('keeps quotes and escapes in strings while quoting bare NaN', () => {
    const log = parseLog('{"s": "a \\"NaN\\" b", "x": NaN}\n', 'q.jsonl');
    expect(log.rows[0]!.cells.get('s')).toBe('a "NaN" b');
    expect(log.rows[0]!.cells.get('x')).toBeNaN();
  });

  it('names the file, line and column of every problem', () => {
    const cases: Array<[string, string]> = [
      ['{"step": 1}\n{"step": 2,}\n', 'r.jsonl line 2 column 12: not JSON (Expected double-quoted property name); each line must be one JSON object, e.g. {"step": 1, "train_loss": 2.3}'],
      ['{"step": 1, "loss": abc}\n', `r.jsonl line 1: not JSON (Unexpected token 'a'); each line must be one JSON object, e.g. {"step": 1, "train_loss": 2.3}`],
      ['{"step": 1}\n\n[1, 2]\n', 'r.jsonl line 3: an array, not a JSON object; each line must be one object, e.g. {"step": 1, "train_loss": 2.3}'],
      ['3\n', 'r.jsonl line 1: a number, not a JSON object; each line must be one object, e.g. {"step": 1, "train_loss": 2.3}'],
      ['\n\n', 'r.jsonl: no rows to import'],
    ];
    for (const [text, message] of cases) expect(importErrorOf(() => parseLog(text, 'r.jsonl')).message).toBe(message);
  });
});
