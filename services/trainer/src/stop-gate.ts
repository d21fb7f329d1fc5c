// The stop gate (run.stop_gate; docs/architecture.md, "Stops"). A StopRun takes a round trip:
// the trigger step's metrics to the broker and the detector, its decision, the command back to
// the trainer; on Kafka on these 2 cores that is ~10–30 ms, several steps of a fast trainer, and
// each is trained past the trigger. With a gate, the trainer starts step s only once a detector
// has judged the run through step s − 1 − lag (its DetectorProgress, published after any StopRun
// of those steps, on the same partition). Step t + 1 + lag then waits for the verdict on step t,
// so a stop triggered at step t ends the run at most `lag` steps past it (lag 0: lockstep, none;
// lag 1, the default: one step overlaps each round trip). If no verdict comes
// within timeout_ms (no detector running, or it lags far behind), the gate opens and says so,
// and closes again when verdicts move.

export interface StopGateOptions {
  /** Steps the trainer may train past the last judged step. */
  lag: number;
  timeoutMs: number;
  /** The last step a detector has judged for this run, if any (control.ts). */
  judgedThrough: () => number | undefined;
  log: (line: string) => void;
  now?: () => number;
  /** Waits a little: the event loop runs meanwhile (the trainer's events go out, commands come in). */
  pause?: () => Promise<void>;
}

export class StopGate {
  /** Milliseconds spent waiting for verdicts, over the run. */
  waitedMs = 0;
  /** Set when a wait timed out: the judged step then; the gate stays open until a verdict passes it. */
  private openedAt: number | undefined;
  private readonly now: () => number;
  private readonly pause: () => Promise<void>;

  constructor(private readonly o: StopGateOptions) {
    if (!Number.isInteger(o.lag) || o.lag < 0) throw new Error(`stop gate: lag must be a whole number ≥ 0, got ${o.lag}`);
    if (!(o.timeoutMs > 0)) throw new Error(`stop gate: timeout must be > 0 ms, got ${o.timeoutMs}`);
    this.now = o.now ?? (() => performance.now());
    this.pause = o.pause ?? (() => new Promise((resolve) => setTimeout(resolve, 1)));
  }

  /** The step a detector must have judged before step `next` starts. */
  needFor(next: number): number {
    return next - 1 - this.o.lag;
  }

  /**
   * Resolves when step `next` may start: judged far enough, or the gate is open; or at once when
   * `stopPending` says a stop (a StopRun, Ctrl-C) is in, which the caller obeys instead.
   */
  async before(next: number, stopPending: () => boolean = () => false): Promise<void> {
    const need = this.needFor(next);
    if (need < 1) return; // nothing to judge yet
    let judged = this.o.judgedThrough() ?? 0;
    if (this.openedAt !== undefined) {
      if (judged <= this.openedAt) return;
      this.openedAt = undefined;
      this.o.log(`stop gate: verdicts again (judged through step ${judged}); stops land within ${this.o.lag} step${this.o.lag === 1 ? '' : 's'} of their trigger again`);
    }
    if (judged >= need) return;
    const t0 = this.now();
    while (judged < need) {
      if (stopPending()) break;
      if (this.now() - t0 >= this.o.timeoutMs) {
        this.openedAt = judged;
        this.waitedMs += this.now() - t0;
        this.o.log(
          `stop gate: no detector has judged step ${need} within ${this.o.timeoutMs} ms (judged through ${judged === 0 ? 'none' : `step ${judged}`}): ` +
            'training on without waiting, so a stop may come several steps late (is `grokstream detect` running?)',
        );
        return;
      }
      await this.pause();
      judged = this.o.judgedThrough() ?? 0;
    }
    this.waitedMs += this.now() - t0;
  }
}
