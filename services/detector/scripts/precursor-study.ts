// The precursor study: on the recorded runs (eval/recordings.yaml), for each candidate precursor
// of grokking, when does it move in the direction that precedes grokking, how long before the
// test-accuracy rise, and does it also move in the runs that never generalize?
//   pnpm study:precursors            → a table, and bench-results/precursors.json
//
// A precursor "moves" at the first step, at least one trend window after memorization M, where
// its trend fit (features/trend.ts, over max(50, M/2) steps) changes it by at least THRESHOLD of
// its level per memorization time in the expected direction, and by more than 3 standard errors.
// Lead = truth onset − move step (> 0: it moved before the rise began); also against the grok step.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { recordedRuns } from '../src/evaluation/eval-run.ts';
import { GENERALIZED_TEST_ACC } from '@grokstream/schemas';
import { NO_GROK_DEFAULTS } from '../src/policies/index.ts';
import { changePerMemorization, moveStep, paceSaysHopeless, PRECURSORS, THRESHOLD, Z } from '../src/evaluation/precursors.ts';

const OUT = process.env.STUDY_OUT ?? 'bench-results/precursors.json';
const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]!;
};

const runs = (await recordedRuns(undefined, process.argv.includes('--allow-missing') ? { onMissing: () => {} } : {})).filter((r) => r.truth.memorizedAt !== null && r.truth.divergedAt === null && r.steps.some((m) => m.test_acc !== null));
const grokkers = runs.filter((r) => r.truth.groks && r.truth.grokkedAt! - r.truth.memorizedAt! >= 100);
const hopeless = runs.filter((r) => r.truth.hopeless);
console.log(`\nprecursor study: ${grokkers.length} runs that grok ≥ 100 steps after memorizing, ${hopeless.length} that never generalize`);
console.log(`a move: ≥ ${THRESHOLD * 100}% of its level per memorization time, in the direction given, > ${Z} standard errors`);
console.log('\n  precursor                      moved in grokkers   lead before onset (min/median/max)   before grok step (median)   moved in hopeless');
const results = PRECURSORS.map((p) => {
  const perRun = grokkers.map((r) => {
    const move = moveStep(p.series(r), r.truth.memorizedAt!, p.direction, r.truth.grokkedAt!);
    return { run: r.name, memorizedAt: r.truth.memorizedAt, onset: r.truth.onset, grokkedAt: r.truth.grokkedAt, move, lead: move === null ? null : r.truth.onset! - move, leadToGrok: move === null ? null : r.truth.grokkedAt! - move };
  });
  const falseAlarms = hopeless.map((r) => ({ run: r.name, move: moveStep(p.series(r), r.truth.memorizedAt!, p.direction) }));
  const leads = perRun.flatMap((x) => (x.lead === null ? [] : [x.lead]));
  const toGrok = perRun.flatMap((x) => (x.leadToGrok === null ? [] : [x.leadToGrok]));
  const moved = perRun.filter((x) => x.move !== null).length;
  const alarms = falseAlarms.filter((x) => x.move !== null).length;
  console.log(
    `  ${p.name.padEnd(30)} ${`${moved}/${grokkers.length}`.padStart(8)}            ${`${quantile(leads, 0) ?? '–'}/${quantile(leads, 0.5) ?? '–'}/${quantile(leads, 1) ?? '–'}`.padEnd(36)} ${String(quantile(toGrok, 0.5) ?? '–').padEnd(27)} ${alarms}/${hopeless.length}${alarms ? ` (${falseAlarms.filter((x) => x.move !== null).map((x) => `${x.run} at ${x.move}`).join(', ')})` : ''}`,
  );
  return { precursor: p.name, direction: p.direction, moved, of: grokkers.length, leads, leadsToGrokStep: toGrok, falseAlarms: alarms, hopeless: hopeless.length, perRun, perHopelessRun: falseAlarms };
});
// At the hopeless-run stop's decision times (3 to 20 memorization times after memorizing), where
// the test-accuracy pace alone would call the run hopeless: does the precursor tell the runs that
// will still grok from the runs that never will?
const AGES = [3, 5, 8, 12, 16, 20];
const pace = { target: GENERALIZED_TEST_ACC, factor: NO_GROK_DEFAULTS.factor, z: NO_GROK_DEFAULTS.z };
console.log(`\n  at ages ${AGES.join(', ')} × M after memorizing where the test-accuracy pace alone says hopeless (before the grok step),`);
console.log('  change per memorization time in the grokking direction:');
console.log('  precursor                      will grok: min / median      never: median / max      separates');
const separation = PRECURSORS.map((p) => {
  const at = (r: (typeof runs)[number], onlyBeforeGrok: boolean) =>
    AGES.flatMap((k) => {
      const M = r.truth.memorizedAt!;
      const now = M * (k + 1);
      if (now > r.steps.at(-1)!.step || (onlyBeforeGrok && now >= r.truth.grokkedAt!) || !paceSaysHopeless(r, now, pace)) return [];
      const v = changePerMemorization(p.series(r), M, p.direction, now);
      return v === null ? [] : [v];
    });
  const grok = grokkers.flatMap((r) => at(r, true));
  const never = hopeless.flatMap((r) => at(r, false));
  const fmt = (v: number | null) => (v === null ? '–' : `${(100 * v).toFixed(1)}%`);
  if (grok.length === 0) console.log(`  ${p.name.padEnd(30)} (no run that groks looks hopeless by its pace)`);
  const separates = grok.length > 0 && never.length > 0 && quantile(grok, 0)! > quantile(never, 1)!;
  console.log(`  ${p.name.padEnd(30)} ${`${fmt(quantile(grok, 0))} / ${fmt(quantile(grok, 0.5))}`.padEnd(28)} ${`${fmt(quantile(never, 0.5))} / ${fmt(quantile(never, 1))}`.padEnd(24)} ${separates ? 'yes' : 'no'}`);
  return { precursor: p.name, willGrok: grok, never, separates, threshold: separates ? (quantile(grok, 0)! + quantile(never, 1)!) / 2 : null };
});
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify({ at: new Date().toISOString(), threshold: THRESHOLD, z: Z, results, ages: AGES, separation }, null, 2)}\n`);
console.log(`\nfigures written to ${OUT}`);
