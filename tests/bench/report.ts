// Benchmarks write their figures to JSON and print a small table. Compare ratios within one run:
// these machines are shared and noisy.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  note?: string;
  /** The target this figure is held to (an issue's goal): at most or at least this value. */
  goal?: { atMost?: number; atLeast?: number };
  /** The same figure before the change that set the goal, and where it was measured. */
  before?: { value: number; source: string };
}

/** Whether a figure meets its goal (undefined: it has none). */
export function meetsGoal(f: Figure): boolean | undefined {
  if (!f.goal) return undefined;
  return (f.goal.atMost === undefined || f.value <= f.goal.atMost) && (f.goal.atLeast === undefined || f.value >= f.goal.atLeast);
}

export function formatValue(value: number): string {
  return value >= 100
    ? Math.round(value).toLocaleString('en-US')
    : value !== 0 && Math.abs(value) < 0.01
      ? value.toExponential(2)
      : value.toFixed(3);
}

function goalText(f: Figure): string {
  if (!f.goal) return '';
  const parts = [
    ...(f.goal.atMost !== undefined ? [`≤ ${f.goal.atMost}`] : []),
    ...(f.goal.atLeast !== undefined ? [`≥ ${f.goal.atLeast}`] : []),
  ];
  return `goal ${parts.join(' and ')}: ${meetsGoal(f) ? 'met' : 'NOT met'}`;
}

export function report(file: string, title: string, figures: Figure[], meta: Record<string, unknown>): void {
  mkdirSync(dirname(file), { recursive: true });
  const withGoals = figures.map((f) => (f.goal ? { ...f, met: meetsGoal(f) } : f));
  writeFileSync(file, `${JSON.stringify({ title, at: new Date().toISOString(), meta, figures: withGoals }, null, 2)}\n`);
  const w = Math.max(...figures.map((f) => f.name.length));
  console.log(`\n${title}`);
  for (const f of figures) {
    const notes = [
      ...(f.before ? [`before ${formatValue(f.before.value)}`] : []),
      ...(f.goal ? [goalText(f)] : []),
      ...(f.note ? [f.note] : []),
    ];
    console.log(`  ${f.name.padEnd(w)}  ${formatValue(f.value).padStart(12)} ${f.unit}${notes.length ? `   (${notes.join('; ')})` : ''}`);
  }
  console.log(`figures written to ${file}`);
}

export async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; result: T }> {
  const t0 = process.hrtime.bigint();
  const result = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, result };
}
