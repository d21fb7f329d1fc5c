// The detector's evaluation: the default detector configuration (phases and policies, as
// `grokstream run` and the detect service use them) replayed over the synthetic runs and the
// recorded real runs. `pnpm eval:detector [--record-goals]`
//
// Prints per-phase precision/recall/F1, onset and grok-step errors, the stops, and the goals
// (eval/goals.json) with their status; writes everything to bench-results/detector-eval.json.
// Exits 1 when a goal marked reached in eval/goals.json is missed now (a regression);
// --allow-missing leaves out recordings not made yet (a warning each);
// --record-goals marks the goals met now as reached (commit the file with the change).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { detectorOptions, parseDetectorConfig } from '../src/config.ts';
import { syntheticSet } from '../src/evaluation/trajectories.ts';
import { EVAL_DIR, fromSynthetic, recordedRuns } from '../src/evaluation/eval-run.ts';
import { PHASES, scoreRuns, type Score } from '../src/evaluation/score.ts';
import { checkGoals, type GoalsFile } from '../src/evaluation/goals.ts';

const { values } = parseArgs({ options: { 'record-goals': { type: 'boolean' }, 'allow-missing': { type: 'boolean' } } });
const OUT = process.env.EVAL_OUT ?? 'bench-results/detector-eval.json';
const GOALS = join(EVAL_DIR, 'goals.json');
const config = parseDetectorConfig({}, '(defaults)');
const options = detectorOptions(config);
const started = Date.now();
const synthetic = syntheticSet().map(fromSynthetic);
// --allow-missing: evaluate on what is recorded so far (while record-eval is still at work).
const recorded = await recordedRuns(undefined, values['allow-missing'] ? { onMissing: (n) => console.error(`(not recorded yet, left out: ${n})`) } : {});
const s = await scoreRuns(synthetic, options);
const r = await scoreRuns(recorded, options);

const pct = (v: number | null | undefined, d = 1) => (v == null ? '    –' : `${(100 * v).toFixed(d).padStart(5)}%`);
const num = (v: number | null | undefined, d = 2) => (v == null ? '–' : v.toFixed(d));
console.log(`\ndetector evaluation (default config): ${synthetic.length} synthetic runs, ${recorded.length} recorded runs`);
for (const [label, x] of [['synthetic', s], ['recorded', r]] as Array<[string, Score]>) {
  console.log(`\n  ${label}: phase         precision  recall     F1   labelled steps`);
  for (const p of PHASES) {
    const q = x.perPhase[p]!;
    console.log(`  ${' '.repeat(label.length)}  ${p.padEnd(12)}  ${pct(q.precision)}  ${pct(q.recall)}  ${num(q.f1)}   ${q.labelled}`);
  }
}
console.log('\n  recorded runs            length  memorized  onset true/found (err %)   grok true/found (err %)   stop');
for (const x of r.runs) {
  const o = x.onset ? `${x.onset.truth}/${x.onset.detected ?? 'missed'} (${num(x.onset.errorPct)})` : '–';
  const g = x.grokStep ? `${x.grokStep.truth}/${x.grokStep.detected ?? 'missed'} (${num(x.grokStep.errorPct)})` : '–';
  const stop = x.stop ? `${x.stop.policy} at ${x.stop.step}${x.premature ? ' PREMATURE' : ''}${x.hopeless ? (x.stoppedInHalf ? ' (hopeless, in half)' : ' (hopeless, late)') : ''}` : x.hopeless ? 'not stopped (hopeless)' : '–';
  console.log(`  ${x.run.padEnd(24)} ${String(x.length).padStart(6)}  ${String(x.memorizedAt ?? '–').padStart(9)}  ${o.padEnd(26)} ${g.padEnd(25)} ${stop}`);
}
for (const [label, x] of [['synthetic', s], ['recorded', r]] as Array<[string, Score]>) {
  console.log(
    `\n  ${label}: onset |err| mean ${num(x.meanAbsOnsetErrorPct)}% max ${num(x.maxAbsOnsetErrorPct)}% (missed ${x.missedOnsets}); grok step |err| max ${num(x.maxAbsGrokStepErrorPct)}% (missed ${x.missedGrokSteps});` +
      ` stops ${x.stops}, premature ${x.premature}, precision ${pct(x.stopPrecision)}; hopeless ${x.hopeless}, stopped in half ${pct(x.stopRecall)}; steps saved ${x.stepsSaved} of ${x.totalSteps} (${pct(x.stepsSaved / x.totalSteps)})`,
  );
}

const goalsFile = JSON.parse(readFileSync(GOALS, 'utf8')) as GoalsFile;
const { results, regressions, updated } = checkGoals(goalsFile, { synthetic: s, recorded: r });
console.log('\n  goal                                           value      target   status');
for (const g of results) console.log(`  ${g.id.padEnd(46)} ${g.value === null ? '–'.padStart(8) : g.value.toFixed(3).padStart(8)}   ${g.target.padStart(7)}   ${g.status}`);
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify({ at: new Date().toISOString(), seconds: (Date.now() - started) / 1000, config, goals: results, synthetic: s, recorded: r }, null, 2)}\n`);
console.log(`\nfigures written to ${OUT} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
if (values['record-goals'] && values['allow-missing']) console.error('--record-goals is refused with --allow-missing: goals are recorded on the whole set');
else if (values['record-goals']) {
  writeFileSync(GOALS, `${JSON.stringify(updated, null, 2)}\n`);
  console.log(`goals met now are marked reached in ${GOALS}`);
}
if (regressions.length > 0) {
  console.error(`\ndetector evaluation: ${regressions.length} goal(s) that had been reached regressed: ${regressions.join(', ')}`);
  process.exit(1);
}
