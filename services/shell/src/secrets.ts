// Secrets (passwords) never reach a log, an error message or --help: they are held in a Secret,
// which prints as ***, and every line a process writes goes through redact(), which blanks any
// secret it was told about and the password part of any URL (the store's redactText).
import { redactText, redactUrl } from '@grokstream/store';

export { redactUrl };

const MASK = '***';

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The value, for the client that needs it; nothing else should call this. */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return MASK;
  }
  toJSON(): string {
    return MASK;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Secret(${MASK})`;
  }
}

const known = new Set<string>();

/** Registers a value that redact() must blank wherever it appears (short values are not registered: they would blank ordinary words). */
export function rememberSecret(value: string): void {
  if (value.length >= 4) known.add(value);
}

/** user:password@ in URLs becomes user:***@; registered secrets become ***. */
export function redact(text: string): string {
  return redactText(text, [...known]);
}
