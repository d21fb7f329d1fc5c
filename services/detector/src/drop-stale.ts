// Operator: one run's events -> only those after every event seen before (see event-position.ts).
// What it drops: exact duplicates, redelivered batches, ranges read again from offset 0 after a
// rebalance, steps a trainer re-emits after a crash resume, and events that are not facts of a run.
// Because a dropped event is never after the mark, dropping it changes nothing later: the output
// of a log with repeats equals the output of its first occurrences, which is what makes a live
// detector under redelivery equal a replay of the distinct events.
import { defer, filter, type MonoTypeOperatorFunction } from 'rxjs';
import type { AnyEvent } from '@grokstream/schemas';
import { isAfter, positionOf, type EventPosition } from './event-position.ts';

/** `after`: the mark to start from (a resumed run's last position); null lets the first event in. */
export function dropStale(after: EventPosition | null = null): MonoTypeOperatorFunction<AnyEvent> {
  return (source) =>
    defer(() => {
      let mark = after; // per subscription
      return source.pipe(
        filter((event) => {
          const p = positionOf(event);
          if (p === null || !isAfter(p, mark)) return false;
          mark = p;
          return true;
        }),
      );
    });
}
