// Keeps ClickHouse credentials out of messages. A URL may carry user:password@ (the client
// accepts it), and errors or log lines that quote the URL would otherwise print the password.

const MASK = '***';

// scheme://user:password@ — the password ends at the last '@' before the host.
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@:]*):([^\s/?#]*)@/gi;
// ?password=... and its spellings as client URL parameters.
const SECRET_PARAM = /([?&](?:password|passwd|pass|access_token|token)=)[^&#\s]*/gi;

/** The URL with any password replaced by ***: `http://user:***@host:port`. Anything else is kept as written. */
export function redactUrl(url: string): string {
  return url.replace(USERINFO, `$1$2:${MASK}@`).replace(SECRET_PARAM, `$1${MASK}`);
}

/** Text with every URL password and every given secret (raw and URL-encoded) masked. */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = redactUrl(text);
  for (const secret of secrets) {
    if (secret === '') continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join(MASK);
  }
  return out;
}

/**
 * Masks secrets in an error in place (message, stack, other string properties, and its causes),
 * so it keeps its class and fields (code, type) for callers that branch on them.
 */
export function redactError<E>(err: E, secrets: readonly string[] = [], seen = new Set<unknown>()): E {
  if (typeof err !== 'object' || err === null || seen.has(err)) return err;
  seen.add(err);
  const target = err as Record<string, unknown>;
  for (const key of new Set([...Object.getOwnPropertyNames(target), 'message', 'stack'])) {
    const value = target[key];
    try {
      if (typeof value === 'string') target[key] = redactText(value, secrets);
      else if (key === 'cause' || value instanceof Error) redactError(value, secrets, seen);
    } catch {
      // A read-only property: nothing we can do, and nothing worth failing over.
    }
  }
  if (err instanceof AggregateError) for (const inner of err.errors) redactError(inner, secrets, seen);
  return err;
}
