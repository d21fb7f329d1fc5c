export type { Store, StoreRow } from './store.ts';
export { ClickHouseStore, type ClickHouseStoreOptions } from './clickhouse-store.ts';
export { ChdbStore, ChdbBusyError, type ChdbStoreOptions } from './chdb-store.ts';
export { TABLES, TABLE_NAMES, insertColumns, createTableSql, type TableName, type TableSpec, type Column } from './tables.ts';
export { MIGRATIONS, migrate, pendingMigrations, type Migration, type MigrationStep, type SqlRunner } from './migrations.ts';
export { sqlString, sqlNumber, sqlIdent } from './sql.ts';
export type { CellValue } from './row-binary.ts';
export { redactUrl, redactText, redactError } from './redact.ts';
export { decodeJsonResult, type Row } from './results.ts';
export { encodeRows } from './encode-rows.ts';
export { NAMED_QUERIES, namedQuerySql, UnknownQueryError, type NamedQuery } from './named-queries.ts';
export { RESULT_FORMATS, formatRows, type ResultFormat } from './result-formats.ts';
export {
  ROLLUP_WIDTHS,
  ROLLUP_EIGS,
  STEP_METRICS,
  PROBE_METRICS,
  GOP_METRICS,
  HYPERPARAMETERS,
  longFormSql,
  metricFamilies,
} from './rollups.ts';
export { sampleRun, insertSampleRun, sampleMilestones, type SampleRun, type SampleRunOptions } from './sample-runs.ts';
