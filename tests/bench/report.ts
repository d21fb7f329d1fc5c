// Benchmarks write their figures to JSON and print a small table. Compare ratios within one run:
// these machines are shared and noisy.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

export function report(file: string, title: string, figures: Figure[], meta: Record<string, unknown>): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ title, at: new Date().toISOString(), meta, figures }, null, 2)}\n`);
  const w = Math.max(...figures.map((f) => f.name.length));
  console.log(`\n${title}`);
  for (const f of figures) {
    const v =
      f.value >= 100
        ? Math.round(f.value).toLocaleString('en-US')
        : f.value !== 0 && Math.abs(f.value) < 0.01
          ? f.value.toExponential(2)
          : f.value.toFixed(3);
    console.log(`  ${f.name.padEnd(w)}  ${v.padStart(12)} ${f.unit}${f.note ? `   (${f.note})` : ''}`);
  }
  console.log(`figures written to ${file}`);
}

export async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; result: T }> {
  const t0 = process.hrtime.bigint();
  const result = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, result };
}
