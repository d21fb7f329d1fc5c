import { describe, expect, it } from 'vitest';
import { encodeRows } from './encode-rows.ts';
import { insertColumns, TABLES, TABLE_NAMES, type TableName } from './tables.ts';
import { sampleRows } from './store.contract.ts';
import { ByteWriter, parseColumnType, valueWriter } from './row-binary.ts';
import type { StoreRow } from './store.ts';

/** The body the general writers alone write: each cell through its column's ValueWriter. */
function reference(table: TableName, rows: StoreRow[]): string {
  const out = new ByteWriter();
  const cells = insertColumns(table).map((name) => ({ name, write: valueWriter(parseColumnType(TABLES[table].columns.find((c) => c.name === name)!.type)) }));
  for (const row of rows) for (const { name, write } of cells) write(out, row[name], () => name);
  return out.toBuffer().toString('hex');
}

const checkpoint = { event_id: 'e', run_id: 'r', seq: 1, ts_ms: 2, step: 3, uri: 'u', bytes: 4 };

describe('encodeRows', () => {
  it('writes the insert columns in table order, one value after another', () => {
    const { columns, body } = encodeRows('checkpoints', [checkpoint, { ...checkpoint, seq: 2, sha256: 'ab' }]);
    expect(columns).toEqual(['event_id', 'run_id', 'seq', 'ts_ms', 'step', 'uri', 'bytes', 'sha256']);
    const row = (seq: string, sha: string) =>
      '0165' + '0172' + seq + '0200000000000000' + '0300000000000000' + '0175' + '0400000000000000' + sha;
    // A missing Nullable column is NULL (01); a present one is 00 + the value.
    expect(body.toString('hex')).toBe(row('0100000000000000', '01') + row('0200000000000000', '00026162'));
  });

  it('leaves DEFAULT columns to the server', () => {
    expect(encodeRows('steps', sampleRows('steps', 1)).columns).not.toContain('ts');
    expect(insertColumns('steps')).toContain('ts_ms');
  });

  it('encodes a sample row of every table', () => {
    for (const table of TABLE_NAMES) {
      const { columns, body } = encodeRows(table, sampleRows(table, 3));
      expect(columns).toEqual(TABLES[table].columns.filter((c) => c.default === undefined).map((c) => c.name));
      expect(body.length).toBeGreaterThan(0);
    }
  });

  it('writes what the general writers write, for the values it inlines and for those it leaves to them', () => {
    for (const table of TABLE_NAMES) {
      const rows = sampleRows(table, 4);
      expect(encodeRows(table, rows).body.toString('hex'), table).toBe(reference(table, rows));
    }
    // Values off the inlined forms: a bigint Int64, bytes for a String, a boolean, Nullable left
    // out or null, an array with a bigint in it, and the same row with its keys in another order.
    const [row] = sampleRows('steps', 1) as [StoreRow];
    const { train_acc: _, ...noAcc } = row;
    const odd: StoreRow[] = [
      { ...row, step: 12345678901234567n, event_id: Buffer.from('bytes'), grad_norm_sq: null },
      { ...noAcc, seq: 2n ** 63n + 5n, test_acc: 0.5 },
      Object.fromEntries(Object.entries(row).reverse()),
    ];
    expect(encodeRows('steps', odd).body.toString('hex')).toBe(reference('steps', odd));
    const [probe] = sampleRows('probes', 1) as [StoreRow];
    const probes = [{ ...probe, probe_batch_size: true }, { ...probe, gop_numerical_rank: [1n, 2] }];
    expect(encodeRows('probes', probes).body.toString('hex')).toBe(reference('probes', probes));
  });

  it('returns an empty body for no rows', () => {
    expect(encodeRows('steps', []).body.length).toBe(0);
  });

  it('names the table, row and column of a value that does not fit', () => {
    const rows = sampleRows('steps', 2);
    expect(() => encodeRows('steps', [rows[0]!, { ...rows[1]!, bogus: 1 }])).toThrow('steps row 1: unknown column bogus');
    const { train_loss: _, ...missing } = rows[0]!;
    expect(() => encodeRows('steps', [missing])).toThrow('steps row 0: missing value for column train_loss (Float64)');
    expect(() => encodeRows('steps', [{ ...rows[0]!, train_loss: '0.5' }])).toThrow(
      'steps row 0 column train_loss: Float64 expects a number, got string "0.5"',
    );
    expect(() => encodeRows('steps', [{ ...rows[0]!, layer_norms: [1, null] }])).toThrow(
      'steps row 0 column layer_norms[1]: Float64 expects a number, got null',
    );
    expect(() => encodeRows('probes', [{ ...sampleRows('probes', 1)[0]!, probe_batch_size: -1 }])).toThrow(
      /probes row 0 column probe_batch_size: UInt32 expects an integer/,
    );
    // Past the first row and column: the error names the cell being written, not the first.
    const three = sampleRows('steps', 3);
    expect(() => encodeRows('steps', [three[0]!, three[1]!, { ...three[2]!, layer_norms: [1, 2, 'x'] }])).toThrow(
      'steps row 2 column layer_norms[2]: Float64 expects a number, got string "x"',
    );
    expect(() => encodeRows('steps', [three[0]!, { ...three[1]!, update_norm: 'x' }])).toThrow('steps row 1 column update_norm: Float64 expects');
  });
});
