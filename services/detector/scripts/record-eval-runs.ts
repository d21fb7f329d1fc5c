// Records the detector's evaluation set: real trainer runs, each from a trainer config and
// overrides listed in eval/recordings.yaml, written as Avro event logs (deflate) under
// eval/recorded/. No detector runs while recording, so every run goes its whole budget and the
// evaluation can replay stops on it and count the steps they would have saved.
//
//   pnpm --filter @grokstream/detector record-eval              # record what is missing
//   pnpm --filter @grokstream/detector record-eval NAME ...     # (re-)record these entries
//   pnpm --filter @grokstream/detector record-eval --all        # re-record everything
//
// Entries with `timeline:` are not trainer runs but curves documented in a seed (eval/README.md):
// their points are interpolated linearly, one StepMetrics per step.
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { MemoryBus } from '@grokstream/bus';
import { EventCodec, EventLogWriter, exampleStepMetrics } from '@grokstream/schemas';
import { configJson, loadConfig, runTraining } from '@grokstream/trainer';
import { loadRecordingManifest, type RecordingEntry, type TimelineEntry } from '../src/evaluation/recordings.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const EVAL = join(import.meta.dirname, '..', 'eval');
const OUT = join(EVAL, 'recorded');

const { values, positionals } = parseArgs({ allowPositionals: true, options: { all: { type: 'boolean' } } });
const manifest = loadRecordingManifest(join(EVAL, 'recordings.yaml'));
const unknown = positionals.filter((n) => !manifest.some((e) => e.name === n));
if (unknown.length > 0) {
  console.error(`record-eval: no entry named ${unknown.join(', ')} in eval/recordings.yaml (entries: ${manifest.map((e) => e.name).join(', ')})`);
  process.exit(2);
}
const chosen = manifest.filter((e) => (positionals.length > 0 ? positionals.includes(e.name) : values.all || !existsSync(join(OUT, `${e.name}.avro`))));
mkdirSync(OUT, { recursive: true });
if (chosen.length === 0) console.error('record-eval: every entry is recorded already (name entries, or --all, to record again)');

for (const [i, entry] of chosen.entries()) {
  const file = join(OUT, `${entry.name}.avro`);
  const partial = `${file}.partial`;
  const started = Date.now();
  const summary = 'timeline' in entry ? await writeTimeline(entry, partial) : await recordRun(entry, partial, `[${i + 1}/${chosen.length}]`);
  renameSync(partial, file);
  console.error(
    `[${i + 1}/${chosen.length}] ${entry.name}: ${summary} → ${relative(ROOT, file)} (${(statSync(file).size / 1024).toFixed(0)} KiB, ${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );
}

async function recordRun(entry: RecordingEntry, path: string, counter: string): Promise<string> {
  const cfg = loadConfig(join(ROOT, entry.config), [
    `run.name=${entry.name}`,
    'run.checkpoint.dir=.grokstream/eval-checkpoints',
    'run.log_every=1000000',
    ...entry.set,
  ]);
  let last = 0;
  const summary = await runTraining(cfg, {
    bus: new MemoryBus(),
    codec: EventCodec.load(),
    configJson: configJson(cfg),
    runId: entry.name,
    eventsFile: path,
    eventsFileCodec: 'deflate',
    log: () => {},
    onStep: (m, rate) => {
      if (Date.now() - last < 5000 && m.step !== cfg.run.steps) return;
      last = Date.now();
      process.stderr.write(`${counter} ${entry.name}: step ${m.step}/${cfg.run.steps}, ${rate.toFixed(0)} steps/s, train acc ${m.train_acc?.toFixed(3)}, test acc ${m.test_acc?.toFixed(3)}\n`);
    },
  });
  const f = summary.final;
  return `memorized ${summary.memorizedAt ?? '–'}, grokked ${summary.grokkedAt ?? '–'}, final train/test acc ${f?.train_acc?.toFixed(3)}/${f?.test_acc?.toFixed(3)}, ${summary.reason}`;
}

async function writeTimeline(entry: TimelineEntry, path: string): Promise<string> {
  const log = new EventLogWriter(path, { codec: 'deflate' });
  const pts = entry.timeline.points;
  // Linear interpolation of one series over the points that give it.
  const at = (step: number, key: 'train_loss' | 'generalization'): number => {
    const given = pts.filter((p) => p[key] !== undefined);
    const j = given.findIndex((p) => p.step >= step);
    const b = given[j]!;
    if (b.step === step || j === 0) return b[key]!;
    const a = given[j - 1]!;
    return a[key]! + ((b[key]! - a[key]!) * (step - a.step)) / (b.step - a.step);
  };
  const first = pts[0]!.step;
  const lastStep = pts.at(-1)!.step;
  for (let step = first; step <= lastStep; step++) {
    const g = at(step, 'generalization');
    log.append([
      {
        name: 'StepMetrics',
        value: exampleStepMetrics({
          run_id: entry.name,
          event_id: `${entry.name}-${step}`,
          seq: step - first,
          ts: 1_700_000_000_000 + step,
          step,
          train_loss: at(step, 'train_loss'),
          train_acc: null,
          test_acc: g,
          test_loss: null,
          lr: Number.NaN,
          weight_norm: Number.NaN,
          grad_norm_sq: null,
          update_norm: null,
          softmax_collapse_frac: null,
          last_layer_norm: null,
          init_distance: null,
          layer_norms: [],
        }),
      },
    ]);
  }
  await log.close();
  return `timeline of ${pts.length} documented points, steps ${first}..${lastStep}`;
}
