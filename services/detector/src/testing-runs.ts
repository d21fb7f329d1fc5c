// Synthetic runs for detector tests, with known phase boundaries.
import { exampleStepMetrics, type AnyEvent } from '@grokstream/schemas';

/** Train fits by step 100; test near chance until 600, then rises to 1 by 700. */
export function syntheticGrokkingRun(runId: string, steps = 1000, finished = true): AnyEvent[] {
  const events: AnyEvent[] = Array.from({ length: steps }, (_, i) => {
    const step = i + 1;
    const trainAcc = Math.min(1, step / 100);
    const testAcc = step < 600 ? 0.05 : Math.min(1, 0.05 + (0.95 * (step - 600)) / 100);
    return {
      name: 'StepMetrics' as const,
      value: exampleStepMetrics({ run_id: runId, step, seq: step, train_acc: trainAcc, test_acc: testAcc, train_loss: 1.001 - trainAcc, ts: 1_000_000 + step }),
    };
  });
  if (finished) {
    events.push({
      name: 'RunFinished',
      value: { event_id: `${runId}-end`, run_id: runId, seq: steps + 1, ts: 1_000_000 + steps, step: steps, reason: 'completed', command_id: null, error: null, summary: {} },
    });
  }
  return events;
}
