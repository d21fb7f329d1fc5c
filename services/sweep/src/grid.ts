// The grid of a sweep: `key=a,b,c` lists, `key=lo..hi..step` ranges, zip groups and seeds, to
// the points (each a list of trainer overrides). Pure: no config is read here.
//
//   grokstream sweep CONFIG task.train_fraction=0.3,0.5,0.7 optimizer.weight_decay=0..1..0.5 \
//     --zip a,b --seeds 3
//
// The points are the cartesian product of the axes, in the order given (the first axis varies
// slowest); keys zipped together form one axis whose values go in step; --seeds N adds the axis
// run.seed = 0..N-1 last (fastest).

export class SweepSpecError extends Error {
  override readonly name = 'SweepSpecError';
}

export interface SweepAxis {
  /** The dotted keys of this axis: one, or several zipped together. */
  keys: string[];
  /** One entry per value of the axis; each entry gives a value (as written) per key. */
  values: string[][];
}

export interface SweepPoint {
  /** 0-based position in the grid. */
  index: number;
  /** key → value as written (and as the trainer's overrides parse it). */
  values: Record<string, string>;
  /** `key=value` overrides, in axis order. */
  overrides: string[];
}

export interface GridSpec {
  /** `key=...` arguments as given. */
  axes: string[];
  /** Zip groups: each a list of keys that vary together. */
  zip?: string[][];
  /** Adds run.seed = 0..seeds-1. */
  seeds?: number;
}

/** The most points one sweep may have: a typo like 0..1000..0.001 should not launch a million runs. */
export const MAX_POINTS = 10_000;

const KEY = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** `lo..hi..step`, inclusive of hi when it lands on the grid (to 1e-9 of a step). */
export function expandRange(key: string, text: string): string[] | null {
  const m = /^(-?[\d.eE+-]+)\.\.(-?[\d.eE+-]+)\.\.(-?[\d.eE+-]+)$/.exec(text);
  if (!m) return null;
  const [lo, hi, step] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (![lo, hi, step].every(Number.isFinite)) throw new SweepSpecError(`${key}=${text}: lo..hi..step must be three numbers, e.g. ${key}=0.1..0.9..0.2`);
  if (!(step > 0)) throw new SweepSpecError(`${key}=${text}: the step must be > 0`);
  if (hi < lo) throw new SweepSpecError(`${key}=${text}: hi (${hi}) is below lo (${lo})`);
  const count = Math.floor((hi - lo) / step + 1e-9) + 1;
  if (count > MAX_POINTS) throw new SweepSpecError(`${key}=${text}: ${count} values; at most ${MAX_POINTS}`);
  // 12 significant digits: 0.1 + 2 × 0.2 is 0.5, not 0.5000000000000001
  return Array.from({ length: count }, (_, i) => String(Number((lo + i * step).toPrecision(12))));
}

function parseAxis(arg: string): { key: string; values: string[] } {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new SweepSpecError(`"${arg}" is not a sweep axis: write key=a,b,c or key=lo..hi..step`);
  const key = arg.slice(0, eq).trim();
  const text = arg.slice(eq + 1).trim();
  if (!KEY.test(key)) throw new SweepSpecError(`"${key}" is not a config key: write dotted names such as task.train_fraction`);
  if (text === '') throw new SweepSpecError(`${key}= has no values: write ${key}=a,b,c or ${key}=lo..hi..step`);
  const range = expandRange(key, text);
  const values = range ?? text.split(',').map((v) => v.trim());
  if (values.some((v) => v === '')) throw new SweepSpecError(`${key}=${text}: an empty value in the list`);
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) throw new SweepSpecError(`${key}=${text}: ${v} is listed twice`);
    seen.add(v);
  }
  return { key, values };
}

/** The axes of a grid spec, zip groups merged, seeds last. */
export function sweepAxes(spec: GridSpec): SweepAxis[] {
  const parsed = spec.axes.map(parseAxis);
  const byKey = new Map<string, string[]>();
  for (const a of parsed) {
    if (byKey.has(a.key)) throw new SweepSpecError(`${a.key} is swept twice; give it once with all its values`);
    byKey.set(a.key, a.values);
  }
  const zipped = new Map<string, string[]>(); // key -> its group
  for (const group of spec.zip ?? []) {
    if (group.length < 2) throw new SweepSpecError(`--zip ${group.join(',')}: a zip group needs two keys or more`);
    for (const k of group) {
      if (!byKey.has(k)) throw new SweepSpecError(`--zip names ${k}, which is not swept; sweep it too, e.g. ${k}=a,b`);
      if (zipped.has(k)) throw new SweepSpecError(`${k} is in two zip groups`);
      zipped.set(k, group);
    }
    const lengths = group.map((k) => byKey.get(k)!.length);
    if (new Set(lengths).size > 1) throw new SweepSpecError(`--zip ${group.join(',')}: zipped keys need as many values each (${group.map((k, i) => `${k}: ${lengths[i]}`).join(', ')})`);
  }
  const axes: SweepAxis[] = [];
  const done = new Set<string>();
  for (const a of parsed) {
    if (done.has(a.key)) continue;
    const group = zipped.get(a.key) ?? [a.key];
    for (const k of group) done.add(k);
    const n = byKey.get(group[0]!)!.length;
    axes.push({ keys: group, values: Array.from({ length: n }, (_, i) => group.map((k) => byKey.get(k)![i]!)) });
  }
  if (spec.seeds !== undefined) {
    if (!Number.isInteger(spec.seeds) || spec.seeds < 1) throw new SweepSpecError(`--seeds must be a positive integer, got ${spec.seeds}`);
    if (byKey.has('run.seed')) throw new SweepSpecError('run.seed is swept and --seeds is given: use one of them');
    axes.push({ keys: ['run.seed'], values: Array.from({ length: spec.seeds }, (_, i) => [String(i)]) });
  }
  return axes;
}

/** Every point of the grid, the first axis varying slowest. */
export function sweepPoints(spec: GridSpec): SweepPoint[] {
  const axes = sweepAxes(spec);
  if (axes.length === 0) throw new SweepSpecError('a sweep needs at least one axis, e.g. task.train_fraction=0.3,0.5,0.7, or --seeds N');
  const total = axes.reduce((n, a) => n * a.values.length, 1);
  if (total > MAX_POINTS) throw new SweepSpecError(`the grid has ${total} points; at most ${MAX_POINTS} (narrow a range or drop an axis)`);
  const points: SweepPoint[] = [];
  for (let index = 0; index < total; index++) {
    let rest = index;
    const chosen: number[] = [];
    for (let a = axes.length - 1; a >= 0; a--) {
      const n = axes[a]!.values.length;
      chosen[a] = rest % n;
      rest = Math.floor(rest / n);
    }
    const values: Record<string, string> = {};
    const overrides: string[] = [];
    axes.forEach((axis, a) =>
      axis.keys.forEach((k, j) => {
        const v = axis.values[chosen[a]!]![j]!;
        values[k] = v;
        overrides.push(`${k}=${v}`);
      }),
    );
    points.push({ index, values, overrides });
  }
  return points;
}
