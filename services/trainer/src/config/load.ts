// From a YAML file plus overrides to a validated RunConfig, and from a RunConfig to the stable
// text stored in RunStarted.config_json.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import YAML from 'yaml';
import { ConfigError } from './errors.ts';
import { isRecord } from './introspect.ts';
import { messageFor, show, toProblems } from './issues.ts';
import { applyOverrides, parseOverride } from './overrides.ts';
import { RunConfigSchema, type RunConfig } from './schema.ts';

/** Reads, overrides and validates a config file. Throws ConfigError for anything the user can fix. */
export function loadConfig(file: string, overrides: readonly string[] = []): RunConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${(err as Error).message}` }], 'check the path');
  }
  return resolveConfig(parseConfigYaml(text, file), overrides, file);
}

/** Parses YAML text; syntax errors become a ConfigError with line and column. */
export function parseConfigYaml(text: string, source: string): unknown {
  // uniqueKeys (the default) makes a key written twice an error instead of last-one-wins;
  // prettyErrors (the default) fills linePos. The position goes into the problem, so the
  // message keeps only the first line, without its "at line L, column C:" tail.
  const doc = YAML.parseDocument(text);
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => ({
      path: '',
      line: e.linePos?.[0].line,
      col: e.linePos?.[0].col,
      message: `YAML syntax error: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
    }));
    throw new ConfigError(source, problems, 'fix the YAML syntax at the position shown');
  }
  return doc.toJS();
}

/**
 * Validates an already-parsed config (`raw` as YAML would give it) after applying `overrides`.
 * `source` names the file in messages; its base name is the default run.name.
 */
export function resolveConfig(raw: unknown, overrides: readonly string[] = [], source = '<inline>'): RunConfig {
  const top = raw ?? {}; // an empty file is an empty mapping
  if (!isRecord(top)) {
    throw new ConfigError(source, [{ path: '', message: `the top level must be a mapping of sections (got ${show(top)})` }]);
  }
  const data = applyOverrides(top, overrides, source);
  if (isRecord(data.run) || data.run === undefined) {
    const run = (data.run ?? {}) as Record<string, unknown>;
    if (run.name === undefined && source !== '<inline>') data.run = { ...run, name: basename(source, extname(source)) };
  }
  const result = RunConfigSchema.safeParse(data, { reportInput: true, error: messageFor });
  if (result.success) return result.data;
  const byPath = new Map<string, string>();
  for (const text of overrides) {
    const o = parseOverride(text);
    if ('text' in o) byPath.set(o.path.join('.'), o.text);
  }
  throw new ConfigError(source, toProblems(RunConfigSchema, result.error.issues, data, byPath));
}

/** JSON with object keys sorted at every level, so equal configs give equal text. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isRecord(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}

/** The text for RunStarted.config_json. */
export function configJson(cfg: RunConfig): string {
  return stableStringify(cfg);
}

/** One line for the start-up message, e.g. "modular add p=59 | mlp[128] quadratic | adamw lr=0.003 batch=full | 3000 steps". */
export function describeConfig(cfg: RunConfig): string {
  const { task: t, model: m, optimizer: o } = cfg;
  const task =
    t.kind === 'modular'
      ? `modular ${t.op} p=${t.p} train=${t.train_fraction}`
      : t.kind === 'sparse_parity'
        ? `sparse_parity n=${t.n_bits} k=${t.k} train=${t.n_train}`
        : `deep_linear ${t.input_dim}->${t.output_dim} ${t.teacher}${t.online ? ' online' : ` train=${t.n_train}`}`;
  const model =
    m.kind === 'mlp'
      ? `mlp[${m.hidden.join(',')}] ${m.activation}${m.input === 'embedding' ? ` embed=${m.embed_dim}` : ''}`
      : m.kind === 'transformer'
        ? `transformer L=${m.n_layers} d=${m.d_model} heads=${m.n_heads}`
        : `deep_linear depth=${m.depth} width=${m.width} gamma=${m.gamma}`;
  const wd = o.weight_decay > 0 ? ` wd=${o.weight_decay}` : '';
  return `${cfg.run.name}: ${task} | ${model} | ${o.kind} lr=${o.lr}${wd} batch=${o.batch_size} | ${cfg.run.steps} steps`;
}
