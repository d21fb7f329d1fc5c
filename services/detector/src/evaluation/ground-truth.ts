// Ground truth for a recorded run, from its own accuracies and with hindsight (the whole run is
// known), so it is deliberately unlike the detector, which sees one step at a time:
// - memorized at M: the first step with train accuracy ≥ MEMORIZED_TRAIN_ACC (0.99);
// - grokked at G: the first step at or after which the test accuracy, as a centred median of
//   SMOOTH steps, is ≥ GENERALIZED_TEST_ACC (0.95);
// - grokking began at O: the hinge of the best least-squares fit, over [M, G], of a flat level
//   followed by a straight rise (y ≈ a + b·max(0, t − O)) to the smoothed test accuracy: where
//   the curve leaves its plateau, judged on the whole rise at once (when it generalized before
//   it memorized, there is no separate grokking phase);
// - a rise that stops short of 0.95 after getting past half of it began at the hinge over [M, E],
//   E where it first covered 95% of its way to its best; PLATEAU after E;
// - diverged at D: where the train loss began the unbroken climb that ends in its first
//   non-finite value (or at that value).
// Per-step labels (docs/architecture.md, "Phases"): WARMUP before M; MEMORIZATION for the
// first MEMORIZATION_STEPS steps after M; PLATEAU until O; GROKKING from O until G; CONVERGED
// from G; DEGRADATION from where the smoothed metric has fallen DEGRADATION_DROP below its best
// (after WARMUP); DIVERGED from D on. Runs without a train accuracy (timelines, deep-linear) are
// labelled by their generalization alone: WARMUP (nothing to call it yet), CONVERGED once
// generalized, DEGRADATION once fallen from the best.
import { GENERALIZED_TEST_ACC, MEMORIZED_TRAIN_ACC, type Phase, type StepMetrics } from '@grokstream/schemas';
import { fitHinge } from '../features/least-squares.ts';

export const SMOOTH = 5;
export const MEMORIZATION_STEPS = 100;
export const DEGRADATION_DROP = 0.1;

export interface GroundTruth {
  memorizedAt: number | null;
  onset: number | null;
  grokkedAt: number | null;
  divergedAt: number | null;
  /** Did it generalize after memorizing (a separate grokking phase)? */
  groks: boolean;
  /** Memorized, never diverged, and never got even halfway to the target (its best smoothed
   *  generalization below GENERALIZED_TEST_ACC / 2): what the hopeless-run stop is for. */
  hopeless: boolean;
  labels: Phase[];
}

function centredMedians(xs: Array<number | null>, width: number): Array<number | null> {
  const half = width >> 1;
  return xs.map((_, i) => {
    const w: number[] = [];
    for (let j = Math.max(0, i - half); j <= Math.min(xs.length - 1, i + half); j++) if (xs[j] !== null && Number.isFinite(xs[j])) w.push(xs[j]!);
    if (w.length === 0) return null;
    w.sort((a, b) => a - b);
    return w.length % 2 ? w[w.length >> 1]! : (w[w.length / 2 - 1]! + w[w.length / 2]!) / 2;
  });
}

/** The index in [from, to) of the hinge of the smoothed series over the points from..to (features/least-squares.ts: fitHinge). */
export function hingeIndex(steps: StepMetrics[], ys: Array<number | null>, from: number, to: number): number {
  const idx: number[] = [];
  const pts: Array<[number, number]> = [];
  for (let i = from; i <= to; i++) {
    if (ys[i] === null || ys[i] === undefined) continue;
    idx.push(i);
    pts.push([steps[i]!.step, ys[i]!]);
  }
  const h = fitHinge(pts);
  return h ? idx[h.index]! : from;
}

export function groundTruth(steps: StepMetrics[], o: { metric?: 'test_acc' } = {}): GroundTruth {
  const metric = o.metric ?? 'test_acc';
  const smooth = centredMedians(
    steps.map((s) => s[metric]),
    SMOOTH,
  );
  let d = steps.findIndex((s) => !Number.isFinite(s.train_loss) || (s.test_loss !== null && !Number.isFinite(s.test_loss)));
  // The divergence began where the loss started its unbroken climb to the non-finite value.
  while (d > 1 && steps[d - 1]!.train_loss > steps[d - 2]!.train_loss) d--;
  const divergedAt = d >= 0 ? steps[d]!.step : null;
  const upTo = d >= 0 ? d : steps.length;
  const mi = steps.findIndex((s, i) => i < upTo && s.train_acc !== null && s.train_acc >= MEMORIZED_TRAIN_ACC);
  const memorizedAt = mi >= 0 ? steps[mi]!.step : null;
  const gi = smooth.findIndex((v, i) => i < upTo && v !== null && v >= GENERALIZED_TEST_ACC);
  const grokkedAt = gi >= 0 ? steps[gi]!.step : null;
  const hasTrainAcc = steps.some((s) => s.train_acc !== null);

  // A rise that stops short of GENERALIZED_TEST_ACC but gets past half of it (a large learning
  // rate's run hovering at 0.93) is a rise all the same: it ends where the smoothed metric first
  // covers 95% of its way from its level at memorization to its best; PLATEAU after that.
  const bestBefore = Math.max(-Infinity, ...smooth.slice(0, upTo).filter((v): v is number => v !== null));
  let ei = gi;
  if (gi < 0 && mi >= 0 && bestBefore >= GENERALIZED_TEST_ACC / 2) {
    const base = smooth[mi] ?? 0;
    ei = smooth.findIndex((v, i) => i > mi && i < upTo && v !== null && v >= base + 0.95 * (bestBefore - base));
  }
  const oi = ei >= 0 && mi >= 0 && ei > mi ? hingeIndex(steps, smooth, mi, ei) : -1;
  const onset = oi >= 0 ? steps[oi]!.step : null;
  const groks = onset !== null && grokkedAt !== null;

  const labels: Phase[] = [];
  let best = -Infinity;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!.step;
    const v = smooth[i] ?? null;
    if (v !== null && v > best) best = v;
    let label: Phase;
    if (d >= 0 && i >= d) label = 'DIVERGED';
    else if (hasTrainAcc && (mi < 0 || i < mi)) label = 'WARMUP';
    else if (!hasTrainAcc && i < 10) label = 'WARMUP';
    else if (v !== null && best - v >= DEGRADATION_DROP) label = 'DEGRADATION';
    else if (gi >= 0 && i >= gi) label = 'CONVERGED';
    else if (!hasTrainAcc) label = 'WARMUP';
    else if (oi >= 0 && i >= oi && i < ei) label = 'GROKKING';
    else if (oi >= 0 && i >= ei) label = 'PLATEAU'; // the rise stopped short of generalizing
    else if (step - memorizedAt! < MEMORIZATION_STEPS) label = 'MEMORIZATION';
    else label = 'PLATEAU';
    labels.push(label);
  }
  const hopeless = memorizedAt !== null && divergedAt === null && bestBefore < GENERALIZED_TEST_ACC / 2;
  return { memorizedAt, onset, grokkedAt, divergedAt, groks, hopeless, labels };
}
