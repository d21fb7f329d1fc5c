// --rerun FILTER: which points run again although a finished run of theirs is in the store.
//   --rerun all                              every point
//   --rerun task.train_fraction=0.3          the points whose value of that key is 0.3
//   --rerun optimizer.lr=1e-3,3e-3           ...is one of these
// Several --rerun filters select the points that match every one of them.
import { SweepSpecError, type SweepPoint } from './grid.ts';

export type PointFilter = (p: SweepPoint) => boolean;

export function parseRerun(filters: readonly string[], sweptKeys: readonly string[]): PointFilter | null {
  if (filters.length === 0) return null;
  if (filters.includes('all')) {
    if (filters.length > 1) throw new SweepSpecError('--rerun all selects every point; give it alone');
    return () => true;
  }
  const tests = filters.map((f) => {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new SweepSpecError(`--rerun ${f}: write --rerun all, or --rerun key=value[,value...] with a swept key`);
    const key = f.slice(0, eq).trim();
    if (!sweptKeys.includes(key)) throw new SweepSpecError(`--rerun ${f}: ${key} is not swept (swept: ${sweptKeys.join(', ')})`);
    const values = new Set(f.slice(eq + 1).split(',').map((v) => v.trim()));
    return (p: SweepPoint) => values.has(p.values[key] ?? '');
  });
  return (p) => tests.every((t) => t(p));
}
