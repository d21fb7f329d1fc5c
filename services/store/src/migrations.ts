// Versioned, idempotent DDL. Each migration runs once per database (recorded in
// schema_migrations) and each of its steps is safe to run again, because a crash can come
// between a step and its record. ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS, so column
// additions check system.columns first.
import { TABLES, TABLE_NAMES, createTableSql } from './tables.ts';
import { sqlString } from './sql.ts';
import {
  SUMMARY_SOURCE_TABLES,
  backfillRunSummariesSql,
  backfillStepRollupsSql,
  runSummariesTableSql,
  runSummariesViewSql,
  runSummaryViewSql,
  stepRollupsTableSql,
  stepRollupsViewSql,
} from './rollups.ts';

export type MigrationStep =
  | { kind: 'sql'; sql: (db: string) => string }
  | { kind: 'add-column'; table: string; column: string; type: string; after?: string };

const ROLLUP_SOURCES = ['steps', 'probes'] as const;

/**
 * The rollups (rollups.ts), built from nothing: dropped, created, filled from the rows already
 * stored, then fed by their views. Run again after a crash part way, it starts over, so no row is
 * counted twice. Rows inserted between a source's fill and its view's creation are missed:
 * migrations run before ingest consumes (ingest.ts), so only a second writer running at the
 * same moment could hit that window.
 */
export function rollupSteps(): MigrationStep[] {
  const sql = (f: (db: string) => string): MigrationStep => ({ kind: 'sql', sql: f });
  return [
    ...ROLLUP_SOURCES.map((s) => sql((db) => `DROP TABLE IF EXISTS ${db}.step_rollups_from_${s}`)),
    ...SUMMARY_SOURCE_TABLES.map((s) => sql((db) => `DROP TABLE IF EXISTS ${db}.run_summaries_from_${s}`)),
    sql((db) => `DROP TABLE IF EXISTS ${db}.run_summary`),
    sql((db) => `DROP TABLE IF EXISTS ${db}.step_rollups`),
    sql((db) => `DROP TABLE IF EXISTS ${db}.run_summaries`),
    sql(stepRollupsTableSql),
    sql(runSummariesTableSql),
    ...ROLLUP_SOURCES.flatMap((s) => [sql((db) => backfillStepRollupsSql(db, s)), sql((db) => stepRollupsViewSql(db, s))]),
    ...SUMMARY_SOURCE_TABLES.flatMap((s) => [sql((db) => backfillRunSummariesSql(db, s)), sql((db) => runSummariesViewSql(db, s))]),
    sql(runSummaryViewSql),
  ];
}

export interface Migration {
  version: number;
  name: string;
  steps: MigrationStep[];
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'event tables',
    steps: TABLE_NAMES.map((t) => ({ kind: 'sql' as const, sql: (db: string) => createTableSql(db, TABLES[t]) })),
  },
  {
    // StepMetrics gained three precursor fields (schema history: StepMetrics 32b41f854fcc44bb).
    // Databases created by version 1 get the columns; new ones already have them from TABLES.
    version: 2,
    name: 'steps: precursor columns',
    steps: [
      { kind: 'add-column', table: 'steps', column: 'softmax_collapse_frac', type: 'Nullable(Float64)', after: 'update_norm' },
      { kind: 'add-column', table: 'steps', column: 'last_layer_norm', type: 'Nullable(Float64)', after: 'softmax_collapse_frac' },
      { kind: 'add-column', table: 'steps', column: 'init_distance', type: 'Nullable(Float64)', after: 'last_layer_norm' },
    ],
  },
  {
    // Dashboards (issue 8): when each row was ingested, and the rollups that keep panels fast.
    version: 3,
    name: 'ingested_at, step rollups, run summaries',
    steps: [
      ...TABLE_NAMES.map((t) => ({
        kind: 'add-column' as const,
        table: t,
        column: 'ingested_at',
        type: "DateTime('UTC') DEFAULT now()",
        after: 'ts',
      })),
      ...rollupSteps(),
    ],
  },
  {
    // run_summary's milestones are the trainer's accuracy milestones (schemas/src/milestones.ts),
    // as the CLI and the sweep table report them; the detector's phase onsets get their own
    // columns (memorization_at, grokking_at, converged_at). The rollups are rebuilt with them.
    version: 4,
    name: 'run summaries: accuracy milestones beside the phase onsets',
    steps: rollupSteps(),
  },
];

/** What a migration runner needs from a store: plain SQL in, rows out. */
export interface SqlRunner {
  command(sql: string): Promise<void>;
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
}

export function migrationsTableSql(db: string): string {
  return (
    `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations ` +
    `(version UInt32, name String, applied_at DateTime('UTC')) ENGINE = MergeTree ORDER BY version`
  );
}

/**
 * The migrations this database lacks, read without writing; undefined when it has no
 * schema_migrations table (no grokstream has written it): what a read-only command checks
 * before it reads (@grokstream/shell, openReadableStore).
 */
export async function pendingMigrations(runner: SqlRunner, db: string, migrations: Migration[] = MIGRATIONS): Promise<Migration[] | undefined> {
  const [table] = await runner.query<{ n: number }>(
    `SELECT count() AS n FROM system.tables WHERE database = ${sqlString(db)} AND name = 'schema_migrations'`,
  );
  if (Number(table?.n ?? 0) === 0) return undefined;
  const done = new Set((await runner.query<{ version: number }>(`SELECT version FROM ${db}.schema_migrations`)).map((r) => Number(r.version)));
  return migrations.filter((m) => !done.has(m.version)).sort((a, b) => a.version - b.version);
}

export async function migrate(
  runner: SqlRunner,
  db: string,
  migrations: Migration[] = MIGRATIONS,
): Promise<{ applied: number[]; current: number }> {
  await runner.command(`CREATE DATABASE IF NOT EXISTS ${db}`);
  await runner.command(migrationsTableSql(db));
  const done = new Set(
    (await runner.query<{ version: number }>(`SELECT version FROM ${db}.schema_migrations`)).map((r) => Number(r.version)),
  );
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    for (const step of m.steps) {
      if (step.kind === 'sql') {
        await runner.command(step.sql(db));
      } else {
        const existing = await runner.query(
          `SELECT name FROM system.columns WHERE database = ${sqlString(db)} AND table = ${sqlString(step.table)} AND name = ${sqlString(step.column)}`,
        );
        if (existing.length === 0) {
          await runner.command(
            `ALTER TABLE ${db}.${step.table} ADD COLUMN ${step.column} ${step.type}${step.after ? ` AFTER ${step.after}` : ''}`,
          );
        }
      }
    }
    await runner.command(
      `INSERT INTO ${db}.schema_migrations (version, name, applied_at) VALUES (${m.version}, ${sqlString(m.name)}, now())`,
    );
    applied.push(m.version);
  }
  const all = [...done, ...applied];
  return { applied, current: all.length === 0 ? 0 : Math.max(...all) };
}
