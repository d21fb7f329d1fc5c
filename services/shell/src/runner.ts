// The process shell every command shares: SIGINT/SIGTERM become an AbortSignal (a second one
// quits at once), and a long-running service is started, reports its progress, and is stopped
// cleanly when the signal comes. Exit codes are not decided here (the CLI's main does that).
import { Interrupted } from './errors.ts';
import type { Logger } from './logger.ts';

export interface Interruption {
  /** Aborted by the first SIGINT or SIGTERM; reason is the signal's name. */
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * Turns SIGINT and SIGTERM into `signal`; a second signal calls `quit` (default: exit 130 at once).
 * `doing` says what happens next, e.g. "stopping at the next step boundary".
 */
export function listenForInterrupts(
  log: Logger,
  doing = 'finishing what is in flight, then stopping',
  quit: () => void = () => process.exit(130),
): Interruption {
  const controller = new AbortController();
  const on = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      log.error(`${sig} again: quitting now`);
      quit();
      return;
    }
    log.warn(`${sig}: ${doing} (again to quit at once)`);
    controller.abort(sig);
  };
  const onInt = () => on('SIGINT');
  const onTerm = () => on('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

export interface Service {
  start(): Promise<void>;
  /** Finishes the work in flight and releases everything (consumers, producers, clients). */
  stop(): Promise<void>;
  /** One line of progress, printed when it changes. */
  status?(): string;
}

export interface ServeOptions {
  log: Logger;
  interruption: Interruption;
  statusEveryMs?: number;
}

/** Runs a service until interrupted; always ends by throwing Interrupted (exit 130) after a clean stop. */
export async function serve(name: string, service: Service, o: ServeOptions): Promise<never> {
  const { log, interruption } = o;
  let started = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    if (interruption.signal.aborted) throw new Interrupted(String(interruption.signal.reason));
    await service.start();
    started = true;
    let last = '';
    if (service.status) {
      timer = setInterval(() => {
        const line = service.status!();
        if (line !== last) log.info(line);
        last = line;
      }, o.statusEveryMs ?? 5000);
    }
    await new Promise<void>((resolve) => {
      if (interruption.signal.aborted) resolve();
      else interruption.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    throw new Interrupted(String(interruption.signal.reason));
  } finally {
    clearInterval(timer);
    if (started) {
      await service.stop();
      if (service.status) log.info(`${name}: stopped; ${service.status()}`);
    }
  }
}
