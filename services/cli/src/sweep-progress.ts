// The sweep's one progress display: which point trains, its step and accuracies, and the sweep's
// tally (done, stopped early, skipped, failed). On a terminal one line, rewritten in place; in a
// log a line when a point starts and ends, and every quarter of its steps.
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
  private steps = 0;
  private quarter = 0;
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
    this.steps = steps;
    this.quarter = 0;
    if (!this.out.isTTY) this.write(`sweep ${this.o.id} [${this.tally()}]: point ${p.index} (${p.overrides.join(' ')}) starts as ${runId}, ${steps} steps`);
  }

  step(p: SweepPoint, m: StepMetrics, rate: number, phase?: string): void {
    const acc = (v: number | null) => (v === null ? '–' : v.toFixed(3));
    const line =
      `sweep ${this.o.id} [${this.tally()}] point ${p.index} (${p.overrides.join(' ')}): step ${m.step}/${this.steps}` +
      `  train/test acc ${acc(m.train_acc)}/${acc(m.test_acc)}  ${rate.toFixed(0)} steps/s${phase ? `  ${phase}` : ''}`;
    if (this.out.isTTY) {
      const now = Date.now();
      if (now - this.last < 100) return;
      this.last = now;
      this.write(line);
    } else {
      const q = Math.floor((4 * m.step) / this.steps);
      if (q > this.quarter && m.step < this.steps) {
        this.quarter = q;
        this.write(line);
      }
    }
  }

  finish(p: SweepPoint, reason: string, step: number, stopPolicy?: string): void {
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
