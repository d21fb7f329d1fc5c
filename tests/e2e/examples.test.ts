// The examples do what examples/README.md says, trained for real on the in-process bus: about a
// minute each on a 2-core CPU. The grokking example is the README's first command, checked end to
// end (detector, store, report in a browser) by readme-grokking.test.ts.
import { describe, expect, it } from 'vitest';
import { MemoryBus } from '@grokstream/bus';
import { EventCodec, type StepMetrics } from '@grokstream/schemas';
import { configJson, loadConfig, runTraining } from '@grokstream/trainer';

async function train(file: string, overrides: string[] = []): Promise<StepMetrics[]> {
  const cfg = loadConfig(file, ['run.checkpoint.dir=.grokstream/e2e-checkpoints', ...overrides]);
  const steps: StepMetrics[] = [];
  await runTraining(cfg, { bus: new MemoryBus(), codec: EventCodec.load(), configJson: configJson(cfg), onStep: (m) => void steps.push(m), log: () => {} });
  return steps;
}

describe('examples', () => {
  // On wasm whatever else is installed: the zero-setup default must not rot when the native
  // backend is built (the README's example runs on native then, see readme-grokking.test.ts).
  it('sparse-parity (on wasm): near chance at first, then the secret bits are found', async () => {
    const steps = await train('examples/sparse-parity.yaml', ['probes.every=0', 'run.backend=wasm']);
    const acc = steps.filter((s) => s.test_acc !== null).map((s) => [s.step, s.test_acc!] as const);
    expect(acc.slice(0, 50).every(([, a]) => a < 0.7)).toBe(true);
    const solved = acc.find(([, a]) => a >= 0.95);
    expect(solved).toBeDefined();
    console.log(`sparse parity: test accuracy ≥ 0.95 from step ${solved![0]}`);
  });

  it('deep-linear-plateaus: the loss falls in stages, with plateaus between', async () => {
    const steps = await train('examples/deep-linear-plateaus.yaml', ['probes.every=0']);
    const loss = steps.map((s) => s.train_loss);
    // A "drop" step: the loss falls by more than 20% over the next 25 steps; a stage is a run of
    // drop steps; stages are separated by at least 100 steps in which the loss barely moves.
    const W = 25;
    const dropping = loss.map((l, t) => t + W < loss.length && loss[t + W]! < 0.8 * l);
    const stages: Array<[number, number]> = [];
    dropping.forEach((d, t) => {
      if (!d) return;
      const last = stages[stages.length - 1];
      if (last && t - last[1] <= 100) last[1] = t;
      else stages.push([t, t]);
    });
    console.log(`deep linear: stages of fast learning at steps ${stages.map(([a, b]) => `${a}-${b}`).join(', ')}`);
    expect(stages.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < stages.length; i++) {
      const [from, to] = [stages[i - 1]![1] + W, stages[i]![0]];
      // Between two stages the loss is on a plateau: it falls by less than 10% per 100 steps
      // (in a stage it falls by more than 20% per 25).
      expect(to - from).toBeGreaterThanOrEqual(75);
      expect((loss[to]! / loss[from]!) ** (100 / (to - from))).toBeGreaterThan(0.9);
    }
    expect(loss.at(-1)! / loss[0]!).toBeLessThan(0.01);
  });
});
