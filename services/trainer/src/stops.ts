// The stop check at a step boundary: an obeyed StopRun (early_stopped) comes before a signal
// (interrupted); either ends the run before the next step.
import type { StopRun } from '@grokstream/schemas';

export type Stop = { reason: 'early_stopped'; command: StopRun } | { reason: 'interrupted' };

export function pendingStop(requested?: () => StopRun | undefined, interrupted?: () => boolean): Stop | undefined {
  const command = requested?.();
  if (command) return { reason: 'early_stopped', command };
  if (interrupted?.()) return { reason: 'interrupted' };
  return undefined;
}
