// Replay: any detector configuration over stored events, one run at a time, in the order the
// runs' events arrive. The same code path the service uses per run, so replaying a live run's
// events yields the live PhaseChanged/StopRun sequence.
import { from, groupBy, mergeMap, toArray, firstValueFrom, type Observable } from 'rxjs';
import type { AnyEvent } from '@grokstream/schemas';
import { detectRun, type DetectorOutput, type RunDetectorOptions } from './detect-run.ts';

export function detectAll(events: Observable<AnyEvent>, o: RunDetectorOptions): Observable<DetectorOutput> {
  return events.pipe(
    groupBy((e) => e.value.run_id),
    mergeMap((run) => run.pipe(detectRun(o))),
  );
}

export function replayEvents(events: Iterable<AnyEvent>, o: RunDetectorOptions): Promise<DetectorOutput[]> {
  return firstValueFrom(detectAll(from(events), o).pipe(toArray()));
}
