// Every shipped example must load as-is: they are the configs users copy first.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.ts';

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '../../../../examples');
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

describe('examples/*.yaml', () => {
  it('finds the examples', () => {
    expect(files).toEqual(expect.arrayContaining(['modular-addition-grokking.yaml', 'deep-linear-plateaus.yaml', 'sparse-parity.yaml']));
  });

  it.each(files)('%s validates', (name) => {
    const cfg = loadConfig(join(EXAMPLES, name));
    expect(cfg.run.name).toBe(name.replace(/\.yaml$/, ''));
  });

  it('the reference run is what the docs say', () => {
    const cfg = loadConfig(join(EXAMPLES, 'modular-addition-grokking.yaml'));
    expect(cfg.task).toEqual({ kind: 'modular', op: 'add', p: 59, train_fraction: 0.5 });
    expect(cfg.model).toEqual({ kind: 'mlp', input: 'onehot', hidden: [128], activation: 'quadratic', bias: false, init_scale: 1 });
    expect(cfg.optimizer).toMatchObject({ kind: 'adamw', lr: 3e-3, betas: [0.9, 0.98], weight_decay: 1, batch_size: 'full' });
    expect(cfg.run).toMatchObject({ steps: 800, eval_every: 1 });
    expect(cfg.probes).toMatchObject({ every: 1, batch_size: 64 });
  });

  it('the README lists every example', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(join(EXAMPLES, 'README.md'), 'utf8');
    for (const f of files) expect(readme).toContain(`grokstream run examples/${f}`);
  });
});
