// grokstream query: ad hoc SQL, or a named query, against the configured store, read-only by
// default (the engine's readonly setting enforces it, see queryStore in @grokstream/shell).
import { parseArgs } from 'node:util';
import { NAMED_QUERIES, RESULT_FORMATS, UnknownQueryError, formatRows, type ResultFormat } from '@grokstream/store';
import { RuntimeFailure, UsageError, describeStore, queryStore } from '@grokstream/shell';
import type { CommandContext } from './context.ts';

export async function query(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      format: { type: 'string', short: 'f' },
      list: { type: 'boolean' },
      run: { type: 'string' },
      write: { type: 'boolean' },
    },
  });
  if (values.list) {
    const width = Math.max(...NAMED_QUERIES.map((q) => q.name.length));
    for (const q of NAMED_QUERIES) console.log(`${q.name.padEnd(width)}  ${q.description}`);
    return 0;
  }
  const format = (values.format ?? 'table') as ResultFormat;
  if (!RESULT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${RESULT_FORMATS.join(', ')}, got ${values.format}`);
  const [text, extra] = positionals;
  if (!text) throw new UsageError('query needs SQL in quotes, or the name of a named query (grokstream query --list)');
  if (extra !== undefined) throw new UsageError(`query takes one SQL statement in quotes; got also "${extra}"`);
  const settings = ctx.settings();
  const named = NAMED_QUERIES.some((q) => q.name === text);
  let rows;
  try {
    rows = await queryStore(settings, named ? { named: text, params: { run: values.run } } : { sql: text }, { write: values.write, log: (l) => ctx.log.info(l) });
  } catch (err) {
    if (err instanceof UnknownQueryError) throw new UsageError(err.message);
    const message = (err as Error).message;
    const hint = /readonly mode|READONLY/i.test(message)
      ? ' (queries are read-only; --write runs a statement that changes data)'
      : /UNKNOWN_TABLE|UNKNOWN_DATABASE|doesn't exist/i.test(message)
        ? ` (is this the store and database ingest writes to? GROKSTREAM_STORE, GROKSTREAM_DATABASE=${settings.database}; nothing is there until grokstream ingest has run)`
        : '';
    throw new RuntimeFailure(`${describeStore(settings.store)}: ${message}${hint}`);
  }
  process.stdout.write(formatRows(rows, format));
  return 0;
}
