import { beforeAll } from 'vitest';
import { ClickHouseStore } from '@grokstream/store';
import { storeContract } from '../../services/store/src/store.contract.ts';
import { rollupsContract } from '../../services/store/src/rollups.contract.ts';
import { CLICKHOUSE_URL, requireClickHouse } from './services.ts';

beforeAll(requireClickHouse);

storeContract(`ClickHouse server at ${CLICKHOUSE_URL}`, async (database) => new ClickHouseStore({ url: CLICKHOUSE_URL, database }));
rollupsContract(`ClickHouse server at ${CLICKHOUSE_URL}`, async (database) => new ClickHouseStore({ url: CLICKHOUSE_URL, database }));
