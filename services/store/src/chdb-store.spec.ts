import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChdbStore } from './chdb-store.ts';
import { storeContract } from './store.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'grokstream-chdb-'));
storeContract('chdb', async (database) => new ChdbStore({ path: dir, database }));

describe('ChdbStore', () => {
  it('shares one engine session per data directory and refuses use after close', async () => {
    const a = new ChdbStore({ path: dir, database: 'shared_a' });
    const b = new ChdbStore({ path: dir, database: 'shared_b' });
    await a.close();
    expect(await b.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await b.close();
    await expect(a.query('SELECT 1')).rejects.toThrow(/closed/);
  });
});
