// The store contract: two implementations (ClickHouse server, embedded chdb) run the same SQL
// and pass one contract suite (store.contract.ts).
import type { TableName } from './tables.ts';
import type { CellValue } from './row-binary.ts';
import type { Row } from './results.ts';

export type StoreRow = Record<string, CellValue>;

export interface Store {
  readonly kind: 'clickhouse' | 'chdb';
  /** Database that holds grokstream's tables. */
  readonly database: string;
  /** Creates the database and applies pending migrations. Safe to call any number of times. */
  migrate(): Promise<{ applied: number[]; current: number }>;
  /**
   * Inserts rows (objects keyed by column name; missing nullable columns are NULL). Rows that
   * repeat an earlier row's key collapse into one in query results (ReplacingMergeTree + FINAL).
   */
  insert(table: TableName, rows: StoreRow[]): Promise<void>;
  /** Runs a SELECT; values come back typed (numbers, including NaN and ±Inf; arrays). */
  query<T = Row>(sql: string): Promise<T[]>;
  /** Runs a statement that returns nothing (DDL, OPTIMIZE). */
  command(sql: string): Promise<void>;
  close(): Promise<void>;
}
