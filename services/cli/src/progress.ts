// The live progress line: rewritten in place on a terminal, a line every N steps otherwise.
import type { StepMetrics } from '@grokstream/schemas';

const fmt = (v: number | null, digits = 4) => (v === null ? '  –   ' : Number.isFinite(v) ? v.toFixed(digits) : String(v));

export function progressLine(m: StepMetrics, totalSteps: number, stepsPerSecond: number, phase?: string): string {
  const acc = m.train_acc === null ? '' : `/${fmt(m.train_acc, 3)}`;
  const test = m.test_loss === null ? '' : `  test ${fmt(m.test_loss)}${m.test_acc === null ? '' : `/${fmt(m.test_acc, 3)}`}`;
  return (
    `step ${String(m.step).padStart(String(totalSteps).length)}/${totalSteps}  train ${fmt(m.train_loss)}${acc}${test}` +
    `  |W| ${m.weight_norm.toFixed(2)}  lr ${m.lr.toExponential(1)}  ${stepsPerSecond.toFixed(1)} steps/s` +
    (phase ? `  phase ${phase}` : '')
  );
}

export class Progress {
  private last = 0;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly totalSteps: number,
    private readonly every: number,
  ) {}

  /** `phase`: the run's current phase, when a detector runs beside the trainer. */
  update(m: StepMetrics, rate: number, phase?: string): void {
    if (this.out.isTTY) {
      const now = Date.now();
      if (now - this.last < 100 && m.step !== this.totalSteps) return; // ~10 redraws a second
      this.last = now;
      this.out.write(`\r\x1b[2K${progressLine(m, this.totalSteps, rate, phase)}`);
    } else if (m.step % this.every === 0 || m.step === this.totalSteps || m.step === 1) {
      this.out.write(`${progressLine(m, this.totalSteps, rate, phase)}\n`);
    }
  }

  /** Ends the in-place line before other output. */
  end(): void {
    if (this.out.isTTY) this.out.write('\n');
  }
}
