// Grafana's SQL expansion, as the ClickHouse plugin (grafana-clickhouse-datasource v4) does it,
// so that panel SQL can run outside Grafana: in the panel specs on both stores, in the
// dashboard benchmark and in the HTML report. Order, as in Grafana: $__conditionalAll first (it
// needs to know whether a variable selects All), then template variables, then time macros.
//
//   $__conditionalAll(cond, $var)   cond, or 1=1 when $var selects every value
//   ${var:singlequote}              'a','b' (quotes and backslashes escaped)
//   ${var:csv}, ${var}, $var        a,b; one value as it is
//   $__timeFilter(col)              col >= toDateTime(FROM) AND col <= toDateTime(TO)   (seconds)
//   $__fromTime, $__toTime          toDateTime(FROM), toDateTime(TO)
//   $__interval_s                   the panel's interval in whole seconds (at least 1)
// Anything else that starts with $ is an error, so a typo fails a spec instead of reaching Grafana.

export interface VariableValue {
  /** The selected values; for All, every option's value. */
  values: string[];
  /** True when the selection is All (includeAll and the All option chosen). */
  all?: boolean;
}

export interface ExpansionContext {
  fromMs: number;
  toMs: number;
  intervalS: number;
  variables: Record<string, VariableValue>;
}

export class MacroError extends Error {
  override readonly name = 'MacroError';
}

const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The arguments of a macro call starting at `open` (the index of its '('), split at top-level commas. */
function callArgs(sql: string, open: number): { args: string[]; end: number } {
  let depth = 0;
  let quoteChar = '';
  let start = open + 1;
  const args: string[] = [];
  for (let i = open; i < sql.length; i++) {
    const c = sql[i]!;
    if (quoteChar) {
      if (c === '\\') i++;
      else if (c === quoteChar) quoteChar = '';
      continue;
    }
    if (c === "'" || c === '"' || c === '`') quoteChar = c;
    else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) {
        args.push(sql.slice(start, i).trim());
        return { args, end: i + 1 };
      }
    } else if (c === ',' && depth === 1) {
      args.push(sql.slice(start, i).trim());
      start = i + 1;
    }
  }
  throw new MacroError(`unclosed macro call at: ${sql.slice(Math.max(0, open - 20), open + 40)}`);
}

function variable(ctx: ExpansionContext, name: string): VariableValue {
  const v = ctx.variables[name];
  if (!v) throw new MacroError(`unknown variable $${name} (known: ${Object.keys(ctx.variables).join(', ') || 'none'})`);
  return v;
}

function expandConditionalAll(sql: string, ctx: ExpansionContext): string {
  const token = '$__conditionalAll(';
  let out = '';
  let at = 0;
  for (let i = sql.indexOf(token); i >= 0; i = sql.indexOf(token, at)) {
    const { args, end } = callArgs(sql, i + token.length - 1);
    if (args.length !== 2) throw new MacroError(`$__conditionalAll takes (condition, $variable), got ${args.length} arguments`);
    const name = /^\$\{?(\w+)\}?$/.exec(args[1]!)?.[1];
    if (!name) throw new MacroError(`$__conditionalAll's second argument must be a variable, got ${args[1]}`);
    out += sql.slice(at, i) + (variable(ctx, name).all ? '1=1' : args[0]!);
    at = end;
  }
  return out + sql.slice(at);
}

function expandVariables(sql: string, ctx: ExpansionContext): string {
  return sql.replace(/\$\{(\w+)(?::(\w+))?\}|\$(?!__)(\w+)/g, (_m, braced: string, format: string | undefined, bare: string) => {
    const v = variable(ctx, braced ?? bare);
    switch (format ?? 'csv') {
      case 'singlequote':
        return v.values.map(quote).join(',');
      case 'csv':
      case 'raw':
        return v.values.join(',');
      default:
        throw new MacroError(`unsupported variable format :${format} in \${${braced}:${format}}`);
    }
  });
}

function expandTimeMacros(sql: string, ctx: ExpansionContext): string {
  const from = Math.floor(ctx.fromMs / 1000);
  const to = Math.floor(ctx.toMs / 1000);
  let out = sql.replace(/\$__timeFilter\(\s*([\w.]+)\s*\)/g, (_m, col: string) => `${col} >= toDateTime(${from}) AND ${col} <= toDateTime(${to})`);
  out = out
    .replace(/\$__fromTime\b/g, `toDateTime(${from})`)
    .replace(/\$__toTime\b/g, `toDateTime(${to})`)
    .replace(/\$__interval_s\b/g, String(Math.max(1, Math.floor(ctx.intervalS))));
  const left = /\$[\w{]+/.exec(out);
  if (left) throw new MacroError(`unknown macro or variable ${left[0]} in: ${out.slice(Math.max(0, left.index - 30), left.index + 40)}`);
  return out;
}

/** Panel SQL as the plugin sends it to ClickHouse. */
export function expandSql(sql: string, ctx: ExpansionContext): string {
  return expandTimeMacros(expandVariables(expandConditionalAll(sql, ctx), ctx), ctx);
}

/** The variables a piece of SQL refers to (not the $__ macros). */
export function referencedVariables(sql: string): string[] {
  const names = new Set<string>();
  for (const m of sql.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(?!__)(\w+)/g)) names.add((m[1] ?? m[2])!);
  return [...names];
}
