// Questions people ask of the store often enough to have a name (`grokstream query --list`).
// Plain SQL that runs on ClickHouse 18.16 and on chdb 26.x: FINAL for exact results over the
// ReplacingMergeTree tables, ANY LEFT JOIN ... USING (18.16's join) of aliased subqueries (26.x
// requires the aliases), values quoted by sql.ts.
import { sqlIdent, sqlString } from './sql.ts';
import { HYPERPARAMETERS } from './rollups.ts';

export interface NamedQuery {
  name: string;
  description: string;
  /** Parameters it needs, e.g. ['run']. */
  params: string[];
  sql(database: string, params: Record<string, string>): string;
}

export const NAMED_QUERIES: NamedQuery[] = [
  {
    name: 'runs',
    description: 'the latest 100 runs: task, model, backend, when they started, how they ended',
    params: [],
    // run_summary (rollups.ts): one merged row per run, kept by views as ingest writes.
    sql: (db) =>
      `SELECT run_id, task, model, backend, toString(started) AS started_at, ended, last_step ` +
      `FROM ${db}.run_summary ORDER BY started_at DESC, run_id LIMIT 100`,
  },
  {
    name: 'phases',
    description: 'the phase changes of one run, in order (--run RUN_ID)',
    params: ['run'],
    sql: (db, p) =>
      `SELECT step, previous_phase, phase, detector, detector_version, window_start, window_end ` +
      `FROM ${db}.phases FINAL WHERE run_id = ${sqlString(p.run!)} ORDER BY step, seq`,
  },
  {
    name: 'stops',
    description: 'the latest 100 stop commands: run, policy, reason, step, who sent it',
    params: [],
    sql: (db) =>
      `SELECT run_id, step, policy, reason, issued_by, toString(ts) AS sent ` +
      `FROM ${db}.commands FINAL ORDER BY ts DESC, run_id LIMIT 100`,
  },
  {
    name: 'sweep',
    description:
      'one row per run: hyperparameters from its config, memorization and grokking steps (the detector’s phases), final accuracies, how it ended',
    params: [],
    sql: (db) =>
      `SELECT run_id, sweep, ${HYPERPARAMETERS.map((h) => h.name).join(', ')}, memorized_step, grokked_step, grok_delay, ` +
      `final_train_acc, final_test_acc, last_step, ended FROM ${db}.run_summary ORDER BY run_id`,
  },
];

export class UnknownQueryError extends Error {
  override readonly name = 'UnknownQueryError';
}

/** The SQL of a named query, with its parameters checked. */
export function namedQuerySql(name: string, database: string, params: Record<string, string | undefined>): string {
  const q = NAMED_QUERIES.find((x) => x.name === name);
  if (!q) throw new UnknownQueryError(`no named query "${name}"; the named queries are: ${NAMED_QUERIES.map((x) => x.name).join(', ')}`);
  const given: Record<string, string> = {};
  for (const p of q.params) {
    const v = params[p];
    if (v === undefined || v === '') throw new UnknownQueryError(`query ${name} needs --${p}`);
    given[p] = v;
  }
  return q.sql(sqlIdent(database), given);
}
