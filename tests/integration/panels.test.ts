import { beforeAll } from 'vitest';
import { ClickHouseStore } from '@grokstream/store';
import { panelsContract } from '../../services/panels/src/panels.contract.ts';
import { CLICKHOUSE_URL, requireClickHouse } from './services.ts';

beforeAll(requireClickHouse);

panelsContract(`ClickHouse server at ${CLICKHOUSE_URL}`, async (database) => new ClickHouseStore({ url: CLICKHOUSE_URL, database }));
