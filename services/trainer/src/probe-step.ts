// The probe step: at every probes.every-th step the expensive probes (probes/index.ts) run and
// their fields become a ProbeSummary, timed.
import type { ProbeSummary } from '@grokstream/schemas';
import type { ProbeFields } from './probes/index.ts';
import type { RunCursor } from './run-cursor.ts';

export type Probe = (step: number) => ProbeFields;

/** Probes run at this step: a probe is configured, every > 0, and the step is on the cadence. */
export function probeDue(probe: Probe | undefined, every: number, step: number): probe is Probe {
  return probe !== undefined && every > 0 && step % every === 0;
}

/** Runs the probe at the cursor's step; the ProbeSummary takes the cursor's next seq. */
export function probeStep(probe: Probe, cursor: RunCursor): ProbeSummary {
  const t0 = performance.now();
  const fields = probe(cursor.step);
  return { ...cursor.envelope(), step: cursor.step, ...fields, elapsed_ms: performance.now() - t0 };
}
