import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStore } from '@grokstream/store';
import { panelsContract } from './panels.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'grokstream-chdb-panels-'));
panelsContract('chdb', async (database) => new ChdbStore({ path: dir, database }));
