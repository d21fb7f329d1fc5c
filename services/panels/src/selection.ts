// From a selection (what a dashboard user picks) to the values of every dashboard variable,
// resolving the query variables on the store the way Grafana does: in dependency order, each
// query expanded with the values chosen before it. Used by the panel specs, the dashboard
// benchmark and the HTML report, so all three run the SQL that Grafana runs.
import { VARIABLES, type Dashboard } from './catalogue.ts';
import { expandSql, type ExpansionContext, type VariableValue } from './macros.ts';

export interface Selection {
  database: string;
  /** Selected values per variable; 'all' selects every option. Unset: the variable's default, as Grafana opens it. */
  values?: Partial<Record<string, string[] | 'all'>>;
  fromMs: number;
  toMs: number;
  intervalS?: number;
  /** The dashboard being opened, for its own defaults (allByDefault). */
  dashboard?: Dashboard;
}

export type QueryRows = (sql: string) => Promise<Record<string, unknown>[]>;

/** Variable names in the order their queries can be resolved. */
const ORDER = ['database', 'sweep', 'run', 'metric', 'layer', 'hyperparameter', 'swept', 'step_from', 'step_to', 'points'];

export async function resolveVariables(query: QueryRows, sel: Selection): Promise<ExpansionContext> {
  const ctx: ExpansionContext = { fromMs: sel.fromMs, toMs: sel.toMs, intervalS: sel.intervalS ?? 60, variables: {} };
  for (const name of ORDER) {
    const v = VARIABLES[name];
    if (!v) throw new Error(`no variable ${name} in the catalogue`);
    const chosen = name === 'database' ? [sel.database] : sel.values?.[name];
    let options: string[] = [];
    if (v.kind === 'query') {
      const rows = await query(expandSql(v.query!, ctx));
      options = rows.map((r) => String(Object.values(r)[0]));
    } else if (v.kind === 'custom') {
      options = v.options ?? [];
    }
    let value: VariableValue;
    const startsOnAll = v.defaultAll || (sel.dashboard?.allByDefault?.includes(name) ?? false);
    if (chosen === 'all' || (chosen === undefined && startsOnAll)) {
      // Grafana's All without a custom all value: every option (nothing matches when there is none).
      value = { values: options.length ? options : [''], all: true };
    } else if (chosen !== undefined) {
      value = { values: chosen };
    } else if (v.default !== undefined) {
      value = { values: [v.default] };
    } else {
      value = { values: options.length ? [options[0]!] : [''] };
    }
    ctx.variables[name] = value;
  }
  return ctx;
}
