// The kinds of error a grokstream command can end with. Each says what went wrong and how to get
// out of it; the CLI's main (services/cli/src/main.ts) alone turns a kind into an exit code:
// usage and configuration errors 2, interruption 130, anything else 1.

/** Base of the errors we expect and explain: printed as their message, never as a stack trace. */
export class GrokstreamError extends Error {
  override readonly name: string = 'GrokstreamError';
}

/** The command line is wrong: an unknown command or flag, a missing argument, a bad value. */
export class UsageError extends GrokstreamError {
  override readonly name: string = 'UsageError';
}

/** A configuration (a YAML file, an override, an environment variable) is invalid. */
export class ConfigurationError extends GrokstreamError {
  override readonly name: string = 'ConfigurationError';
}

/** The work could not be done: a server unreachable, a file unreadable, a run suspended. */
export class RuntimeFailure extends GrokstreamError {
  override readonly name: string = 'RuntimeFailure';
}

/** Stopped by SIGINT or SIGTERM before the work was done. */
export class Interrupted extends GrokstreamError {
  override readonly name: string = 'Interrupted';
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`);
  }
}
