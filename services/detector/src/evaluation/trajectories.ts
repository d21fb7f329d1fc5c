// Labelled trajectories for evaluating the phase detector: synthetic runs whose phases and
// change points are known by construction (seeded noise), among them anti-grokking. They carry a
// probe every 10 steps with the one precursor the study found predictive (Fourier sparsity).
// Labelling convention (the evaluation's ground truth): WARMUP until the training set is fitted;
// MEMORIZATION for the first 100 steps after that; PLATEAU while test accuracy stays flat;
// GROKKING while it rises; CONVERGED once it is ≥ 0.95 and flat; DEGRADATION while it falls
// from its best; DIVERGED from a NaN loss on.
import { exampleProbeSummary, exampleStepMetrics, type Phase, type ProbeSummary, type StepMetrics } from '@grokstream/schemas';
import { Rng } from './rng.ts';

export interface LabelledRun {
  name: string;
  kind: 'synthetic' | 'real';
  steps: StepMetrics[];
  /** Ground-truth phase per step (same order as steps); absent for runs labelled by onset only. */
  labels?: Phase[];
  /** Ground-truth grokking onset, if the run groks. */
  grokkingOnset: number | null;
  /** Probe summaries (every PROBE_EVERY steps), in step order. */
  probes?: ProbeSummary[];
}

export const PROBE_EVERY = 10;

/**
 * A probe summary carrying only the Fourier sparsity, the precursor the study found on the
 * recorded runs (eval/README.md): rising 2.4–5.7% of itself per memorization time through the
 * plateau of a run that groks (the transformer), at most ~1% in runs that never generalize.
 */
function fourierProbe(run: string, step: number, sparsity: number): ProbeSummary {
  return exampleProbeSummary({ run_id: run, step, ts: step, extra: { fourier_sparsity: sparsity } });
}

const clamp = (x: number) => Math.min(1, Math.max(0, x));

interface Shape {
  memorizeAt: number;
  grokAt: number | null;
  grokWidth: number;
  /** Anti-grokking: generalization peaks at peakAt, a loss spike at spikeAt, then decays. */
  anti?: { peakAt: number; spikeAt: number; floor: number };
  divergeAt?: number;
  total: number;
  noise: number;
}

function synth(name: string, shape: Shape, seed: number): LabelledRun {
  const rng = new Rng(seed);
  const steps: StepMetrics[] = [];
  const labels: Phase[] = [];
  const probes: ProbeSummary[] = [];
  // The Fourier sparsity: 0.2 until memorization; then +4% per memorization time in a run that
  // will grok (until it has generalized: the recorded transformer's went on rising through its
  // rise), flat with noise in one that will not.
  const willGrok = !shape.anti && shape.grokAt !== null;
  for (let step = 1; step <= shape.total; step++) {
    const train = clamp(step / shape.memorizeAt);
    let test = 0.05;
    let label: Phase;
    if (shape.anti) {
      const { peakAt, spikeAt, floor } = shape.anti;
      test = step <= peakAt ? 0.05 + (0.92 * step) / peakAt : step < spikeAt ? 0.97 : Math.max(floor, 0.97 - (step - spikeAt) / 400);
      label = step < shape.memorizeAt ? 'WARMUP' : step < spikeAt + 30 ? (step <= peakAt ? 'GROKKING' : 'CONVERGED') : 'DEGRADATION';
    } else if (shape.grokAt !== null && step >= shape.grokAt) {
      test = clamp(0.05 + (0.95 * (step - shape.grokAt)) / shape.grokWidth);
      label = step < shape.grokAt + shape.grokWidth ? 'GROKKING' : 'CONVERGED';
    } else {
      label = step < shape.memorizeAt ? 'WARMUP' : step < shape.memorizeAt + 100 ? 'MEMORIZATION' : 'PLATEAU';
    }
    const noisy = clamp(test + (rng.next() - 0.5) * 2 * shape.noise);
    let trainLoss = 1.001 - train;
    if (shape.anti && step === shape.anti.spikeAt) trainLoss = 40; // the loss spike of S1
    if (shape.divergeAt !== undefined && step >= shape.divergeAt) {
      trainLoss = NaN;
      label = 'DIVERGED';
    }
    steps.push(exampleStepMetrics({ run_id: name, step, ts: step, train_acc: train, test_acc: noisy, train_loss: trainLoss, test_loss: 1 - noisy }));
    labels.push(label);
    if (step % PROBE_EVERY === 0) {
      const since = Math.max(0, Math.min(step, (shape.grokAt ?? step) + shape.grokWidth) - shape.memorizeAt) / shape.memorizeAt;
      probes.push(fourierProbe(name, step, 0.2 * (willGrok ? 1 + 0.04 * since : 1) + 0.002 * (rng.next() - 0.5)));
    }
  }
    const groks = !shape.anti && shape.grokAt !== null && (shape.divergeAt === undefined || shape.divergeAt > shape.grokAt);
  return { name, kind: 'synthetic', steps, labels, grokkingOnset: groks ? shape.grokAt : null, probes };
}

export function syntheticSet(): LabelledRun[] {
  const out: LabelledRun[] = [];
  let seed = 1;
  for (const [m, g, w] of [
    [100, 600, 100],
    [150, 450, 60],
    [80, 1200, 200],
    [200, 900, 40],
  ] as const) {
    for (const noise of [0, 0.01, 0.03]) out.push(synth(`grok-m${m}-g${g}-n${noise}`, { memorizeAt: m, grokAt: g, grokWidth: w, total: g + w + 300, noise }, seed++));
  }
  out.push(synth('no-grok', { memorizeAt: 120, grokAt: null, grokWidth: 0, total: 1500, noise: 0.01 }, seed++));
  out.push(synth('anti-grokking', { memorizeAt: 100, grokAt: null, grokWidth: 0, anti: { peakAt: 300, spikeAt: 500, floor: 0.3 }, total: 1200, noise: 0.01 }, seed++));
  out.push(synth('anti-grokking-fast', { memorizeAt: 60, grokAt: null, grokWidth: 0, anti: { peakAt: 200, spikeAt: 350, floor: 0.1 }, total: 900, noise: 0.02 }, seed++));
  out.push(synth('diverges', { memorizeAt: 100, grokAt: 700, grokWidth: 100, divergeAt: 400, total: 500, noise: 0.01 }, seed++));
  return out;
}
