// grokstream — the command. `grokstream --help` lists the subcommands. This is the one place where
// an outcome becomes an exit code: 0 done, 1 failed, 2 bad usage or configuration, 130 interrupted.
import { ConfigurationError, GrokstreamError, Interrupted, UsageError, listenForInterrupts, redact } from '@grokstream/shell';
import { HELP } from './help.ts';
import { makeContext, type CommandContext } from './context.ts';
import { run, resend } from './run-command.ts';
import { stop } from './stop-command.ts';
import { detect, replay } from './detector-commands.ts';
import { ingest } from './ingest-command.ts';
import { query } from './query-command.ts';
import { report, ui } from './report-commands.ts';
import { importLog } from './import-command.ts';
import { doctor } from './doctor-command.ts';
import { sweep } from './sweep-command.ts';
import { worker } from './worker-command.ts';

type Command = (args: string[], ctx: CommandContext) => Promise<number>;
const COMMANDS: Record<string, Command> = { run, sweep, worker, report, ui, import: importLog, doctor, stop, resend, replay, detect, ingest, query };

export function exitCodeOf(err: unknown): number {
  if (err instanceof Interrupted) return 130;
  if (err instanceof UsageError || err instanceof ConfigurationError) return 2;
  if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) return 2;
  return 1;
}

/** What the user reads: the message (and the way out) for errors we expect; a stack only at debug level. */
export function describeError(err: unknown, command: string | undefined, debug: boolean): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const prefix = command ? `grokstream ${command}` : 'grokstream';
  if (err instanceof Interrupted) return `${prefix}: ${e.message}`;
  const usage = exitCodeOf(err) === 2 && !(err instanceof ConfigurationError) ? '\n(grokstream --help for usage)' : '';
  // A config error's message is its whole report already.
  const text = err instanceof ConfigurationError ? e.message : `${prefix}: ${e.message}${usage}`;
  const expected = err instanceof GrokstreamError || exitCodeOf(err) === 2;
  return debug && !expected && e.stack ? `${text}\n${e.stack}` : text;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '-h' || command === '--help') {
    console.log(HELP);
    return command === undefined ? 2 : 0;
  }
  const handler = COMMANDS[command];
  const debug = (process.env.GROKSTREAM_LOG_LEVEL ?? '').toLowerCase() === 'debug';
  if (!handler) {
    console.error(describeError(new UsageError(`unknown command "${command}" (commands: ${Object.keys(COMMANDS).join(', ')})`), undefined, debug));
    return 2;
  }
  const ctx = makeContext(process.env, (log) =>
    listenForInterrupts(log, command === 'run' || command === 'sweep' ? 'stopping at the next step boundary' : 'finishing what is in flight, then stopping'),
  );
  try {
    return await handler(rest, ctx);
  } catch (err) {
    console.error(redact(describeError(err, command, debug)));
    return exitCodeOf(err);
  } finally {
    ctx.interruption.dispose();
  }
}

process.exitCode = await main(process.argv.slice(2));
// Clients that keep sockets or timers open must not hold the process: the outcome is decided.
setTimeout(() => process.exit(process.exitCode), 2000).unref();
