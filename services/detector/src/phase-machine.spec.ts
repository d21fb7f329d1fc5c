// The classifier on synthetic trajectories with known phases.
import { describe, expect, it } from 'vitest';
import { exampleStepMetrics, type Phase, type StepMetrics } from '@grokstream/schemas';
import { PhaseMachine, phaseOptions, type PhaseOptions } from './phase-machine.ts';

function run(o: PhaseOptions, steps: StepMetrics[], machine = new PhaseMachine(o)) {
  const changes: Array<{ step: number; phase: Phase; values: Record<string, number> }> = [];
  for (const m of steps) {
    const out = machine.step(m);
    if (out.change) changes.push({ step: out.change.step, phase: out.change.phase, values: out.change.evidence.values });
  }
  return { state: machine, changes };
}

/** A grokking run: train fits by step 100, test flat near chance until 600, rises to 1 by 700. */
function grokking(): StepMetrics[] {
  return Array.from({ length: 1000 }, (_, i) => {
    const step = i + 1;
    const trainAcc = Math.min(1, step / 100);
    const testAcc = step < 600 ? 0.05 : Math.min(1, 0.05 + (0.95 * (step - 600)) / 100);
    return exampleStepMetrics({ run_id: 'g', step, train_acc: trainAcc, test_acc: testAcc, train_loss: 1 - trainAcc + 1e-3 });
  });
}

describe('phase machine', () => {
  it('labels a grokking run WARMUP → MEMORIZATION → PLATEAU → GROKKING → CONVERGED', () => {
    const { changes, state } = run(phaseOptions(), grokking());
    expect(changes.map((c) => c.phase)).toEqual(['MEMORIZATION', 'PLATEAU', 'GROKKING', 'CONVERGED']);
    expect(state.memorizedAt).toBe(99);
    const grok = changes.find((c) => c.phase === 'GROKKING')!;
    // The rise starts at 600; its onset is dated back along the fitted line, to within a few steps.
    expect(grok.step).toBeGreaterThanOrEqual(595);
    expect(grok.step).toBeLessThan(610);
    expect(grok.values.grokking_delay).toBe(grok.step - 99);
    const plateau = changes.find((c) => c.phase === 'PLATEAU')!;
    expect(plateau.step).toBe(99 + 100);
  });

  it('labels anti-grokking: best generalization early, then a fall (DEGRADATION)', () => {
    const steps = Array.from({ length: 600 }, (_, i) => {
      const step = i + 1;
      const test = step < 200 ? Math.min(0.97, step / 150) : Math.max(0.3, 0.97 - (step - 200) / 300);
      return exampleStepMetrics({ run_id: 'a', step, train_acc: 1, test_acc: test, train_loss: 0.01 });
    });
    const { changes } = run(phaseOptions(), steps);
    const degradation = changes.find((c) => c.phase === 'DEGRADATION')!;
    expect(degradation).toBeDefined();
    expect(degradation.values.best).toBeCloseTo(0.97);
    expect(degradation.values.best_step).toBeLessThan(200);
    expect(degradation.step).toBeGreaterThan(200 + 25);
    expect(degradation.step).toBeLessThan(200 + 45);
  });

  it("calls a steady climb GROKKING, not PLATEAU (issue 11: 0.01 → 0.30 over 700 steps, 0.72 → 0.95 over 600), and a creep that would take 100 memorization times PLATEAU", () => {
    const noise = (i: number) => 0.004 * Math.sin(i * 12.9898) * Math.cos(i * 78.233); // deterministic wiggle
    const climb = (from: number, to: number, over: number) =>
      Array.from({ length: 130 + over }, (_, i) => {
        const step = i + 1;
        const test = step <= 130 ? from : from + ((to - from) * (step - 130)) / over;
        return exampleStepMetrics({ run_id: 'c', step, train_acc: Math.min(1, step / 130), test_acc: test + noise(i), train_loss: 1 / step });
      });
    for (const [from, to, over] of [[0.01, 0.3, 700], [0.72, 0.95, 600]] as const) {
      const { changes } = run(phaseOptions(), climb(from, to, over));
      const phases = changes.map((c) => c.phase);
      expect(phases, `${from} → ${to}`).toContain('GROKKING');
      expect(phases, `${from} → ${to}`).not.toContain('PLATEAU');
    }
    // memorized at 130 at 0.05, then +0.05 per 700 steps: 0.95 would take ~12,600 steps (~97 memorization times)
    const { changes } = run(phaseOptions(), climb(0.05, 0.1, 700));
    expect(changes.map((c) => c.phase)).toEqual(['MEMORIZATION', 'PLATEAU']);
  });

  it('announces DIVERGED at once on a NaN loss and stays there', () => {
    const steps = grokking().slice(0, 300);
    steps[250] = { ...steps[250]!, train_loss: NaN };
    const { changes, state } = run(phaseOptions(), steps);
    expect(changes.at(-1)).toMatchObject({ phase: 'DIVERGED', step: 251 });
    expect(state.phase).toBe('DIVERGED');
  });

  it('announces DIVERGED when the loss stays above the spike factor, but not for a one-step spike', () => {
    const blowUp = Array.from({ length: 100 }, (_, i) => exampleStepMetrics({ run_id: 's', step: i + 1, train_loss: i >= 80 ? 50 * (i - 79) : 1 }));
    expect(run(phaseOptions(), blowUp).changes.at(-1)).toMatchObject({ phase: 'DIVERGED', step: 81 });
    const blip = Array.from({ length: 100 }, (_, i) => exampleStepMetrics({ run_id: 's', step: i + 1, train_loss: i === 80 ? 50 : 1 }));
    expect(run(phaseOptions(), blip).changes.map((c) => c.phase)).not.toContain('DIVERGED');
  });

  it('is zero-safe: a memorized run whose loss wanders near zero (tenfold, but by nothing) is not DIVERGED', () => {
    // First loss 4; from step 51 the loss lives between 2e-6 and 3e-6, with an exact 0 at step 61.
    const loss = (i: number) => (i < 50 ? 4 * (1 - i / 50) + 0.01 : i === 60 ? 0 : 2e-6 + (i % 3) * 5e-7);
    const wander = Array.from({ length: 300 }, (_, i) => exampleStepMetrics({ run_id: 'z', step: i + 1, train_acc: i < 50 ? i / 50 : 1, test_acc: 0.05, train_loss: loss(i) }));
    expect(run(phaseOptions(), wander).changes.map((c) => c.phase)).not.toContain('DIVERGED');
    // Without the rise rule (minRise 0) every wander above the exact 0 is a "spike"; it is still
    // not divergence, because the loss does not go on climbing.
    expect(run(phaseOptions({ minRise: 0 }), wander).changes.map((c) => c.phase)).not.toContain('DIVERGED');
  });

  it('tells a loss that jumps and comes back down (a large learning rate) from one that goes on climbing', () => {
    // Shaped on the recorded runs add-p59-lr2-wd0 (groks) and add-p59-lr10-diverges (NaN at 13).
    const jump = [4.08, 1900, 364, 392, 897, 1207, 1208, 910, 574, 565, 813, 894, 700, 600, 494, 450, 393, 350, 302, 250, 217, 190, 157, 130, 119];
    const climb = [4.08, 2.4e5, 2e8, 1.8e11, 1.1e14, 9.5e16, 5.9e19, 5e22];
    const losses = (ls: number[], trainAcc: (i: number) => number = () => 0.02) =>
      ls.map((l, i) => exampleStepMetrics({ run_id: 'j', step: i + 1, train_loss: l, train_acc: trainAcc(i), test_acc: 0.02 }));
    expect(run(phaseOptions(), losses(jump)).changes.map((c) => c.phase)).not.toContain('DIVERGED');
    const diverged = run(phaseOptions(), losses(climb)).changes.at(-1)!;
    expect(diverged).toMatchObject({ phase: 'DIVERGED', step: 2 }); // dated at the spike, announced 5 losses later
    expect(diverged.values.log_loss_slope).toBeGreaterThan(5);
    // the same climb while the train accuracy rises (the network still learns) is not divergence
    expect(run(phaseOptions(), losses(climb, (i) => 0.02 + 0.05 * i)).changes.map((c) => c.phase)).not.toContain('DIVERGED');
  });

  it('needs a phase to hold confirmSteps steps: a one-step blip announces nothing', () => {
    const steps = grokking().slice(0, 400);
    steps[300] = { ...steps[300]!, test_acc: 0.99 }; // a single lucky evaluation
    const { changes } = run(phaseOptions(), steps);
    expect(changes.map((c) => c.phase)).toEqual(['MEMORIZATION', 'PLATEAU']);
  });

  it('monitors a lower-is-better metric when told', () => {
    const steps = Array.from({ length: 300 }, (_, i) =>
      exampleStepMetrics({ run_id: 'l', step: i + 1, train_loss: 0.01, train_acc: null, test_loss: Math.max(0.01, 1 - i / 100) }),
    );
    const o = phaseOptions({ metric: 'test_loss', generalizedAt: 0.05, memorizedTrainLoss: 0.05 });
    expect(o.higherIsBetter).toBe(false);
    expect(run(o, steps).changes.at(-1)!.phase).toBe('CONVERGED');
  });

  it('refuses nonsense options with the option named', () => {
    expect(() => phaseOptions({ window: 0 })).toThrow(/window must be a whole number/);
    expect(() => phaseOptions({ spikeFactor: 1 })).toThrow(/spikeFactor must be > 1/);
    expect(() => phaseOptions({ minRise: -0.5 })).toThrow(/minRise must be ≥ 0/);
  });

  it('resumes from a carry: same phase and scalars, empty windows, and goes on from there', () => {
    const o = phaseOptions();
    const steps = grokking();
    const upTo650 = run(o, steps.slice(0, 650)).state;
    const carry = upTo650.carry();
    expect(carry).toEqual({
      phase: 'GROKKING',
      memorizedAt: upTo650.memorizedAt,
      best: upTo650.best,
      bestStep: upTo650.bestStep,
      lastProgress: upTo650.lastProgress,
      lossScale: steps[0]!.train_loss, // the run's first loss: a resumed run keeps its spike scale
    });
    const resumed = new PhaseMachine(o, carry);
    expect(resumed).toMatchObject({ ...carry, current: null, trend: null });
    // No step after the resume announces WARMUP or MEMORIZATION again; the run still converges.
    expect(run(o, steps.slice(650), resumed).changes.map((c) => c.phase)).toEqual(['CONVERGED']);
  });
});
