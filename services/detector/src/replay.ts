// Replay: any detector configuration over stored events, in the order they arrive. The same
// per-run bookkeeping and pipeline the service uses (RunBook), so replaying a live run's events
// yields the live PhaseChanged/StopRun sequence, duplicates and redelivered events included.
import { Observable, firstValueFrom, from, toArray } from 'rxjs';
import type { AnyEvent } from '@grokstream/schemas';
import type { DetectorOutput, RunDetectorOptions } from './detect-run.ts';
import { RunBook } from './run-book.ts';

export function detectAll(events: Observable<AnyEvent>, o: RunDetectorOptions): Observable<DetectorOutput> {
  return new Observable<DetectorOutput>((subscriber) => {
    const book = new RunBook(o, { output: (out) => subscriber.next(out), error: (err) => subscriber.error(err) });
    const subscription = events.subscribe({
      next: (e) => book.push(e),
      error: (err) => subscriber.error(err),
      // Runs without a RunFinished are left as they are, as the service leaves them: nothing more to say.
      complete: () => subscriber.complete(),
    });
    return () => {
      subscription.unsubscribe();
      book.dispose();
    };
  });
}

export function replayEvents(events: Iterable<AnyEvent>, o: RunDetectorOptions): Promise<DetectorOutput[]> {
  return firstValueFrom(detectAll(from(events), o).pipe(toArray()));
}
