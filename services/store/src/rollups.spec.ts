import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStore } from './chdb-store.ts';
import { rollupsContract } from './rollups.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'grokstream-chdb-rollups-'));
rollupsContract('chdb', async (database) => new ChdbStore({ path: dir, database }));
