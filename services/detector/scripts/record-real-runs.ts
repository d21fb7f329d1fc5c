// Records real trainer runs as JSON Lines of StepMetrics for the detector's evaluation set:
//   pnpm --filter @grokstream/detector record-runs
// Each run's grokking onset is labelled afterwards by the evaluation (see evaluate.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryBus } from '@grokstream/bus';
import { EventCodec } from '@grokstream/schemas';
import { configJson, loadConfig, runTraining } from '@grokstream/trainer';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const OUT = join(import.meta.dirname, '..', 'eval', 'real');
const runs: Array<{ name: string; overrides: string[] }> = [
  { name: 'modular-add-seed0', overrides: ['run.seed=0'] },
  { name: 'modular-add-seed1', overrides: ['run.seed=1'] },
  { name: 'modular-sub-seed0', overrides: ['run.seed=0', 'task.op=sub', 'run.steps=1200'] },
];
for (const r of runs) {
  const cfg = loadConfig(join(ROOT, 'examples', 'modular-addition-grokking.yaml'), ['probes.every=0', 'run.checkpoint.dir=.grokstream/eval-checkpoints', ...r.overrides]);
  const lines: string[] = [];
  process.stderr.write(`recording ${r.name} (${cfg.run.steps} steps)\n`);
  await runTraining(cfg, {
    bus: new MemoryBus(),
    codec: EventCodec.load(),
    configJson: configJson(cfg),
    log: () => {},
    onStep: (m) => {
      const { run_id: _, event_id: __, layer_norms: ___, extra: ____, ...rest } = m;
      lines.push(JSON.stringify({ run_id: r.name, ...rest }));
    },
  });
  writeFileSync(join(OUT, `${r.name}.jsonl`), `${lines.join('\n')}\n`);
}
