// The detector's evaluation: per-phase precision and recall on the labelled synthetic runs, and
// the grokking-onset error on synthetic and real trainer runs. `pnpm eval:detector`
// Writes bench-results/detector-eval.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { phaseOptions } from '../src/phase-machine.ts';
import { syntheticSet } from '../src/evaluation/trajectories.ts';
import { realRuns } from '../src/evaluation/real-runs.ts';
import { PHASES, scoreRuns } from '../src/evaluation/score.ts';

const OUT = process.env.EVAL_OUT ?? 'bench-results/detector-eval.json';
const options = phaseOptions();
const synthetic = syntheticSet();
const real = realRuns();
const s = await scoreRuns(synthetic, options);
const r = await scoreRuns(real, options);
const pct = (v: number | null) => (v === null ? '   –  ' : `${(100 * v).toFixed(1).padStart(5)}%`);
console.log(`\ndetector evaluation: ${synthetic.length} synthetic runs (labelled per step), ${real.length} real trainer runs (onset only)`);
console.log('  phase         precision  recall   labelled steps');
for (const p of PHASES) {
  const x = s.perPhase[p]!;
  console.log(`  ${p.padEnd(12)}  ${pct(x.precision)}    ${pct(x.recall)}   ${x.labelled}`);
}
console.log('  grokking onset, detected − true (steps):');
for (const o of [...s.onsets, ...r.onsets]) console.log(`    ${o.run.padEnd(24)} true ${String(o.truth).padStart(5)}  error ${o.error === null ? 'missed' : o.error}`);
console.log(`  mean |error|: synthetic ${s.meanAbsOnsetError?.toFixed(1)}, real ${r.meanAbsOnsetError?.toFixed(1) ?? '–'}; missed ${s.missedOnsets + r.missedOnsets}`);
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify({ at: new Date().toISOString(), options, synthetic: s, real: r }, null, 2)}\n`);
console.log(`figures written to ${OUT}`);
