import type { DetectorOutput } from './detect-run.ts';

const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(4));

/** One line per output, for `grokstream replay`. */
export function describeOutput(o: DetectorOutput): string {
  if (o.name === 'PhaseChanged') {
    const v = o.value;
    const ev = Object.entries(v.evidence.values)
      .map(([k, x]) => `${k}=${num(x)}`)
      .join(' ');
    return `${v.run_id} step ${v.step}: ${v.phase}${v.previous_phase ? ` (was ${v.previous_phase})` : ''}  ${ev}`;
  }
  const v = o.value;
  return `${v.run_id} step ${v.step}: STOP by ${v.policy}: ${v.reason} (command ${v.command_id})`;
}
