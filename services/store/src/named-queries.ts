// Questions people ask of the store often enough to have a name (`grokstream query --list`).
// Plain SQL that runs on ClickHouse 18.16 and on chdb 26.x: FINAL for exact results over the
// ReplacingMergeTree tables, ANY LEFT JOIN ... USING (18.16's join) of aliased subqueries (26.x
// requires the aliases), values quoted by sql.ts.
import { sqlIdent, sqlString } from './sql.ts';

export interface NamedQuery {
  name: string;
  description: string;
  /** Parameters it needs, e.g. ['run']. */
  params: string[];
  sql(database: string, params: Record<string, string>): string;
}

const runEnds = (db: string) =>
  `(SELECT run_id, reason AS ended, step AS last_step FROM ${db}.run_ends FINAL) AS ends`;

export const NAMED_QUERIES: NamedQuery[] = [
  {
    name: 'runs',
    description: 'the latest 100 runs: task, model, backend, when they started, how they ended',
    params: [],
    sql: (db) =>
      `SELECT run_id, task, model, backend, toString(ts) AS started, ended, last_step ` +
      `FROM (SELECT run_id, task, model, backend, ts FROM ${db}.runs FINAL) AS started_runs ` +
      `ANY LEFT JOIN ${runEnds(db)} USING run_id ORDER BY started DESC, run_id LIMIT 100`,
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
    description: 'one row per run: hyperparameters from its config, memorization and grokking steps, final accuracies',
    params: [],
    // visitParamExtract* reads a key anywhere in config_json (18.16 has no JSONExtract); the
    // config's keys are distinct enough for the hyperparameters a sweep varies.
    sql: (db) =>
      `SELECT run_id, lr, weight_decay, train_fraction, seed, memorized_step, grokked_step, ` +
      `if(memorized_step > 0 AND grokked_step > 0, grokked_step - memorized_step, 0) AS grok_delay, ` +
      `final_train_acc, final_test_acc, steps ` +
      `FROM (SELECT run_id, ` +
      `visitParamExtractFloat(config_json, 'lr') AS lr, ` +
      `visitParamExtractFloat(config_json, 'weight_decay') AS weight_decay, ` +
      `visitParamExtractFloat(config_json, 'train_fraction') AS train_fraction, ` +
      `seed_init AS seed FROM ${db}.runs FINAL) AS run_configs ` +
      `ANY LEFT JOIN (SELECT run_id, ` +
      `minIf(step, train_acc >= 0.99) AS memorized_step, ` +
      `minIf(step, test_acc >= 0.95) AS grokked_step, ` +
      `argMax(train_acc, step) AS final_train_acc, argMax(test_acc, step) AS final_test_acc, ` +
      `max(step) AS steps FROM ${db}.steps FINAL GROUP BY run_id) AS run_steps USING run_id ORDER BY run_id`,
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
