// The probe step: at every probes.every-th step the expensive probes (probes/index.ts) run and
// become a ProbeSummary. Their backend half runs at the step, on the training thread; their
// arithmetic (the Grams and spectra) goes to the summarizer (probes/summarizer.ts), a worker
// thread in a run, and the ProbeSummary is taken when the loop asks for it: before the next
// step's events, so the event order is the same as if it had all run at once.
import type { ProbeSummary } from '@grokstream/schemas';
import { completeProbes, type ProbeReading } from './probes/index.ts';
import type { GramSummarizer } from './probes/summarizer.ts';
import { summarizeGrams, type GramResults } from './probes/summaries.ts';
import type { RunCursor } from './run-cursor.ts';

/** The probes read at a step (probes/index.ts, readProbes). */
export type Probe = (step: number) => ProbeReading;

/** Probes run at this step: a probe is configured, every > 0, and the step is on the cadence. */
export function probeDue(probe: Probe | undefined, every: number, step: number): probe is Probe {
  return probe !== undefined && every > 0 && step % every === 0;
}

export class ProbePipeline {
  /** `inline`: its eigenvalues are in flight on a thread of their own, so its arithmetic is left (little of it) for finish(). */
  private pending: { step: number; reading: ProbeReading; readMs: number; inline: boolean } | undefined;

  constructor(
    private readonly probe: Probe,
    private readonly summarizer: GramSummarizer,
  ) {}

  /** The step of the probe started and not finished yet. */
  get pendingStep(): number | undefined {
    return this.pending?.step;
  }

  /** Reads the probes at `step` and hands their arithmetic to the summarizer. */
  start(step: number): void {
    if (this.pending) throw new Error(`the probe of step ${this.pending.step} is still pending: finish() it first`);
    const t0 = performance.now();
    const reading = this.probe(step);
    const eig = reading.work?.eigenvalues;
    const inline = eig !== undefined && 'inFlight' in eig;
    if (reading.work && !inline) this.summarizer.submit(reading.work);
    this.pending = { step, reading, readMs: performance.now() - t0, inline };
  }

  /**
   * The ProbeSummary of the started probe (waiting for its arithmetic), with the cursor's next
   * seq; undefined when none is pending. elapsed_ms is the probe's compute time: its reads here
   * plus its arithmetic wherever it ran.
   */
  finish(cursor: RunCursor): ProbeSummary | undefined {
    const p = this.pending;
    if (!p) return undefined;
    this.pending = undefined;
    const taken = p.reading.work ? (p.inline ? inlineSummary(p.reading.work) : this.summarizer.take()) : undefined;
    const fields = completeProbes(p.reading, taken?.results);
    return { ...cursor.envelope(), step: p.step, ...fields, elapsed_ms: p.readMs + (taken?.ms ?? 0) };
  }
}

/** The arithmetic of work whose spectra were solved elsewhere: waits for them, then the summaries (~0.05 ms). */
function inlineSummary(work: NonNullable<ProbeReading['work']>): { results: GramResults; ms: number } {
  const t0 = performance.now();
  const results = summarizeGrams(work);
  return { results, ms: performance.now() - t0 };
}
