// Helpers for the specs.
import { ImportError } from './errors.ts';

/** The ImportError `fn` throws (fails the test when it throws something else or nothing). */
export function importErrorOf(fn: () => unknown): ImportError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ImportError) return err;
    throw err;
  }
  throw new Error('expected an ImportError, nothing was thrown');
}
