// The sweep's one progress display: which points train (one, or one per trainer process with
// --workers), their steps and accuracies, and the sweep's tally (done, stopped early, skipped,
// failed). On a terminal one line, rewritten in place; in a log a line when a point starts and
// ends, and every quarter of its steps.
import type { StepMetrics } from '@grokstream/schemas';
import type { SweepPoint } from '@grokstream/sweep';

export interface SweepProgressOptions {
  id: string;
  total: number;
  skipped: number;
  quiet: boolean;
}

export class SweepProgress {
  private done = 0;
  private stopped = 0;
  private failed = 0;
  private last = 0;
  /** The points training now: their planned steps, the quarter last logged, their latest words. */
  private readonly active = new Map<number, { steps: number; quarter: number; now: string }>();
  private lineOpen = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly o: SweepProgressOptions,
  ) {}

  private tally(): string {
    const parts = [`${this.done + this.o.skipped}/${this.o.total} points`];
    if (this.stopped) parts.push(`${this.stopped} stopped early`);
    if (this.o.skipped) parts.push(`${this.o.skipped} skipped`);
    if (this.failed) parts.push(`${this.failed} failed`);
    return parts.join(', ');
  }

  private write(line: string): void {
    if (this.o.quiet) return;
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${line}`);
      this.lineOpen = true;
    } else this.out.write(`${line}\n`);
  }

  /** A line of its own (a trainer's log line): ends the in-place line first. */
  log(line: string): void {
    this.end();
    this.out.write(`${line}\n`);
  }

  start(p: SweepPoint, runId: string, steps: number): void {
    this.active.set(p.index, { steps, quarter: 0, now: `point ${p.index}: starting` });
    if (!this.out.isTTY) this.write(`sweep ${this.o.id} [${this.tally()}]: point ${p.index} (${p.overrides.join(' ')}) starts as ${runId}, ${steps} steps`);
  }

  step(p: SweepPoint, m: StepMetrics, rate: number, phase?: string): void {
    const a = this.active.get(p.index);
    if (!a) return;
    const acc = (v: number | null) => (v === null ? '–' : v.toFixed(3));
    const words = `step ${m.step}/${a.steps}  train/test acc ${acc(m.train_acc)}/${acc(m.test_acc)}  ${rate.toFixed(0)} steps/s${phase ? `  ${phase}` : ''}`;
    if (this.out.isTTY) {
      // One point: its overrides and its words; several: each point's number and words.
      a.now = this.active.size === 1 ? `point ${p.index} (${p.overrides.join(' ')}): ${words}` : `point ${p.index}: ${words.replace('  train/test acc ', ' acc ')}`;
      const now = Date.now();
      if (now - this.last < 100) return;
      this.last = now;
      this.write(`sweep ${this.o.id} [${this.tally()}] ${[...this.active.values()].map((x) => x.now).join(' | ')}`);
    } else {
      const q = Math.floor((4 * m.step) / a.steps);
      if (q > a.quarter && m.step < a.steps) {
        a.quarter = q;
        this.write(`sweep ${this.o.id} [${this.tally()}] point ${p.index} (${p.overrides.join(' ')}): ${words}`);
      }
    }
  }

  finish(p: SweepPoint, reason: string, step: number, stopPolicy?: string): void {
    this.active.delete(p.index);
    this.done++;
    if (stopPolicy) this.stopped++;
    if (reason === 'failed' || reason === 'bus_outage') this.failed++;
    const how = reason === 'early_stopped' ? `stopped early at step ${step}${stopPolicy ? ` by ${stopPolicy}` : ''}` : `${reason} at step ${step}`;
    this.log(`sweep ${this.o.id}: point ${p.index} (${p.overrides.join(' ')}) ${how} [${this.tally()}]`);
  }

  end(): void {
    if (this.lineOpen && this.out.isTTY) this.out.write('\n');
    this.lineOpen = false;
  }
}
