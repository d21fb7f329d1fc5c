import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChdbStore } from './chdb-store.ts';
import { sampleRows, storeContract } from './store.contract.ts';

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

  it('leaves no insert body behind, after a good insert or a failed one', async () => {
    const good = new ChdbStore({ path: dir, database: 'spool_good' });
    await good.migrate();
    await good.insert('steps', sampleRows('steps', 10));
    expect(await good.query('SELECT count() AS n FROM spool_good.steps')).toEqual([{ n: 10 }]);
    // No such database: the engine refuses the INSERT after the body was written.
    const missing = new ChdbStore({ path: dir, database: 'spool_missing' });
    await expect(missing.insert('steps', sampleRows('steps', 10))).rejects.toThrow(/spool_missing/);
    expect(readdirSync(good.spoolDir)).toEqual([]);
    await good.command('DROP DATABASE spool_good');
    await good.close();
    await missing.close();
  });
});
