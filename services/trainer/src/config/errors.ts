// The one error type the config code throws: a ConfigurationError (the CLI prints its message,
// which is format(), and exits 2); anything else escaping loadConfig is a bug, not a user mistake.
import { ConfigurationError } from '@grokstream/shell';

export interface ConfigProblem {
  /** Dotted key path (`optimizer.lr`, `model.hidden[0]`); '' for the file as a whole. */
  path: string;
  /** What is wrong, what is allowed and the offending value, e.g. `must be > 0 (got -1)`. */
  message: string;
  /** Set for YAML syntax errors: 1-based position in the file. */
  line?: number;
  col?: number;
  /** Set when the bad value came from a command-line override rather than the file. */
  override?: string;
}

const DEFAULT_HINT =
  'fix the file, or override single keys on the command line as key.path=value (e.g. optimizer.lr=1e-3); ' +
  'examples/*.yaml are known-good configs';

export class ConfigError extends ConfigurationError {
  override readonly name = 'ConfigError';

  constructor(
    /** The config file (or '<inline>' for configs built in code). */
    readonly source: string,
    readonly problems: ConfigProblem[],
    readonly hint: string = DEFAULT_HINT,
  ) {
    super('');
    // Error.message is what an uncaught error prints: make that the full report too.
    this.message = this.format();
  }

  /** One problem per line, then the hint. */
  format(): string {
    const n = this.problems.length;
    const lines = [`invalid config ${this.source} (${n} problem${n === 1 ? '' : 's'}):`];
    for (const p of this.problems) lines.push(`  ${formatProblem(this.source, p)}`);
    lines.push(`hint: ${this.hint}`);
    return lines.join('\n');
  }
}

function formatProblem(source: string, p: ConfigProblem): string {
  // file:line:col is the form editors and terminals turn into a link.
  if (p.line !== undefined) return `${source}:${p.line}:${p.col ?? 1}: ${p.message}`;
  // An override that could not even be parsed has no key path: name the override instead.
  if (!p.path && p.override !== undefined) return `override \`${p.override}\`: ${p.message}`;
  const where = p.path || '(top level)';
  const origin = p.override !== undefined ? ` [from override \`${p.override}\`]` : '';
  return `${where}: ${p.message}${origin}`;
}
