import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.ts';
import { resolveConfig } from './load.ts';
import { applyOverrides, parseOverride } from './overrides.ts';

const BASE = {
  run: { steps: 100 },
  task: { kind: 'modular', op: 'mul', p: 13 },
  model: { kind: 'mlp', hidden: [32], activation: 'quadratic' },
  optimizer: { kind: 'adamw', lr: 0.01, betas: [0.9, 0.98], batch_size: 64 },
};

function overrideError(raw: object, overrides: string[]): ConfigError {
  try {
    resolveConfig(raw, overrides, 'base.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('config was accepted');
}

describe('parseOverride', () => {
  it.each([
    ['optimizer.lr=1e-3', 1e-3],
    ['run.steps=500', 500],
    ['probes.noise=false', false],
    ['model.hidden=[64, 64]', [64, 64]],
    ['run.tags={a: x}', { a: 'x' }],
    ['run.name="007"', '007'],
    ["run.name='1e-3'", '1e-3'],
    ['optimizer.batch_size=full', 'full'],
    ['run.name=a=b', 'a=b'],
    ['run.name=', null],
    ['run.name=null', null],
  ])('%s', (text, value) => {
    const o = parseOverride(text);
    expect(o).toMatchObject({ text, value });
  });

  it('splits the key path', () => {
    expect(parseOverride('probes.hessian.trace=true')).toMatchObject({ path: ['probes', 'hessian', 'trace'] });
  });

  it.each([
    ['foo', 'no "="'],
    ['=1', 'empty key'],
    ['a..b=1', 'empty segment'],
    ['.a=1', 'empty segment'],
    ['a b=1', 'bad key segment'],
    ['model.hidden.0=5', 'set the whole list'],
    ['model.hidden=[1, 2', 'not valid YAML'],
  ])('rejects %s', (text, why) => {
    const o = parseOverride(text);
    expect('text' in o).toBe(false);
    expect(o).toMatchObject({ override: text, message: expect.stringContaining(why) });
  });
});

describe('applyOverrides', () => {
  it('sets values of every type, creating missing sections, without touching the input', () => {
    const out = applyOverrides(BASE, ['optimizer.lr=3e-3', 'probes.hessian.trace=true', 'model.hidden=[8,8]', 'run.name=x'], 'b.yaml');
    expect(out).toMatchObject({ optimizer: { lr: 3e-3 }, probes: { hessian: { trace: true } }, model: { hidden: [8, 8] }, run: { name: 'x' } });
    expect(BASE.optimizer.lr).toBe(0.01);
  });

  it('reports every malformed override at once, naming each', () => {
    const err = overrideError(BASE, ['foo', 'a..b=1', 'optimizer.lr=1']);
    expect(err.problems.map((p) => p.override)).toEqual(['foo', 'a..b=1']);
    expect(err.format()).toContain('override `foo`: malformed override');
  });

  it('rejects a path through a value that is not a mapping', () => {
    const err = overrideError(BASE, ['optimizer.lr.value=1', 'model.hidden.width=3']);
    expect(err.problems).toEqual([
      { path: 'optimizer.lr.value', message: 'cannot set: optimizer.lr is 0.01, not a mapping', override: 'optimizer.lr.value=1' },
      expect.objectContaining({ path: 'model.hidden.width', message: expect.stringContaining('model.hidden is a list') }),
    ]);
  });
});

describe('overrides through resolveConfig', () => {
  it('override values of every type reach the config', () => {
    const cfg = resolveConfig(BASE, [
      'optimizer.lr=1e-3', // number in exponent form
      'run.steps=2000', // integer
      'model.bias=false', // boolean
      'model.hidden=[64,64]', // list
      'run.name="42"', // quoted string stays a string
      'optimizer.batch_size=full', // bare string
      'run.tags={sweep: lr}', // flow mapping
      'optimizer.betas=[0.8, 0.9]',
    ]);
    expect(cfg.optimizer).toMatchObject({ lr: 1e-3, batch_size: 'full', betas: [0.8, 0.9] });
    expect(cfg.model).toMatchObject({ bias: false, hidden: [64, 64] });
    expect(cfg.run).toMatchObject({ steps: 2000, name: '42', tags: { sweep: 'lr' } });
  });

  it('an empty value removes the key, so its default applies', () => {
    expect(resolveConfig(BASE, ['optimizer.batch_size=']).optimizer.batch_size).toBe('full');
  });

  it('switching the task kind drops the old variant and applies the new defaults', () => {
    const cfg = resolveConfig(BASE, ['task.kind=sparse_parity']);
    expect(cfg.task).toEqual({ kind: 'sparse_parity', n_bits: 12, k: 3, n_train: 2000, n_test: 1000 });
  });

  it('switches apply before other overrides, in either order', () => {
    const a = resolveConfig(BASE, ['task.kind=sparse_parity', 'task.k=5']);
    const b = resolveConfig(BASE, ['task.k=5', 'task.kind=sparse_parity']);
    expect(a.task).toEqual(b.task);
    expect(a.task).toMatchObject({ kind: 'sparse_parity', k: 5 });
  });

  it('switching the optimizer keeps shared settings', () => {
    const cfg = resolveConfig(BASE, ['optimizer.kind=sgd', 'optimizer.momentum=0.9']);
    expect(cfg.optimizer).toMatchObject({ kind: 'sgd', lr: 0.01, batch_size: 64, momentum: 0.9, nesterov: false });
    expect(cfg.optimizer).not.toHaveProperty('betas');
  });

  it('switching the model kind keeps the kind-specific checks', () => {
    const relu = { ...BASE, model: { kind: 'mlp', hidden: [32], activation: 'relu' } };
    const cfg = resolveConfig(relu, ['model.kind=transformer', 'model.d_model=64']);
    expect(cfg.model).toEqual({ kind: 'transformer', n_layers: 1, d_model: 64, n_heads: 4, d_mlp: 512, activation: 'relu', layernorm: false });
    // quadratic is an mlp activation: carried over, then rejected with the transformer's options.
    expect(() => resolveConfig(BASE, ['model.kind=transformer'])).toThrow(
      /model.activation: must be one of "relu" \| "gelu" \(got "quadratic"\)/,
    );
  });

  it('an unknown kind is reported as such, keeping the other keys', () => {
    const err = overrideError(BASE, ['task.kind=images']);
    expect(err.problems).toEqual([expect.objectContaining({ path: 'task.kind', override: 'task.kind=images' })]);
    expect(err.problems[0]!.message).toContain('(got "images")');
  });

  it('a bad value from an override is attributed to it', () => {
    const err = overrideError(BASE, ['optimizer.lr=-1', 'optimizer.lrr=1']);
    const lines = err.format().split('\n');
    expect(lines).toContain('  optimizer.lr: must be > 0 (got -1) [from override `optimizer.lr=-1`]');
    expect(lines.some((l) => l.includes('optimizer.lrr: unknown key (did you mean "lr"?)') && l.includes('[from override'))).toBe(true);
  });

  it('the seed shorthand works as an override', () => {
    expect(resolveConfig(BASE, ['run.seed=5', 'run.seeds.order=9']).run.seeds).toEqual({ data: 5, init: 5, order: 9 });
  });
});
