export type { Store, StoreRow } from './store.ts';
export { ClickHouseStore, type ClickHouseStoreOptions } from './clickhouse-store.ts';
export { ChdbStore, type ChdbStoreOptions } from './chdb-store.ts';
export { TABLES, TABLE_NAMES, insertColumns, createTableSql, type TableName, type TableSpec, type Column } from './tables.ts';
export { MIGRATIONS, migrate, type Migration, type MigrationStep, type SqlRunner } from './migrations.ts';
export { sqlString, sqlNumber, sqlIdent } from './sql.ts';
export { formatCell, formatRows, formatNumber, type CellValue } from './tsv.ts';
export { decodeJsonResult, type Row } from './results.ts';
export { encodeRows } from './encode-rows.ts';
