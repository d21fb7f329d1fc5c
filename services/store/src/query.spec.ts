import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChdbStore } from './chdb-store.ts';
import { queryContract } from './query.contract.ts';
import { formatRows } from './result-formats.ts';
import { namedQuerySql } from './named-queries.ts';

const dir = mkdtempSync(join(tmpdir(), 'grokstream-query-'));
queryContract('chdb', {
  writable: async (database) => new ChdbStore({ path: dir, database }),
  readonly: async (database) => new ChdbStore({ path: dir, database, readonly: true }),
});

describe('result formats', () => {
  const rows = [
    { run: 'a,b', loss: 0.5, acc: NaN, layers: [1, Infinity], note: null },
    { run: 'say "hi"', loss: -Infinity, acc: 1, layers: [], note: 'x' },
  ];

  it('writes a table with numbers right-aligned and a row count', () => {
    expect(formatRows(rows, 'table')).toBe(
      [
        'run       loss  acc  layers     note',
        '────────  ────  ───  ─────────  ────',
        'a,b        0.5  nan  [1,"inf"]  NULL',
        'say "hi"  -inf    1  []         x',
        '(2 rows)',
        '',
      ].join('\n'),
    );
    expect(formatRows([], 'table')).toBe('(no rows)\n');
  });

  it('writes CSV by RFC 4180 and JSON with non-finite numbers as strings', () => {
    expect(formatRows(rows, 'csv')).toBe('run,loss,acc,layers,note\r\n"a,b",0.5,nan,"[1,""inf""]",\r\n"say ""hi""",-inf,1,[],x\r\n');
    expect(JSON.parse(formatRows(rows, 'json'))).toEqual([
      { run: 'a,b', loss: 0.5, acc: 'nan', layers: [1, 'inf'], note: null },
      { run: 'say "hi"', loss: '-inf', acc: 1, layers: [], note: 'x' },
    ]);
    expect(formatRows(rows, 'jsonl').trim().split('\n').map((l) => JSON.parse(l) as unknown)).toHaveLength(2);
  });

  it('names the named queries when asked for one that does not exist, and the parameters they need', () => {
    expect(() => namedQuerySql('nope', 'db', {})).toThrow(/no named query "nope"; the named queries are: runs, phases, stops, sweep/);
    expect(() => namedQuerySql('phases', 'db', {})).toThrow(/query phases needs --run/);
  });
});
