import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigProblem } from './errors.ts';
import { resolveConfig } from './load.ts';
import { isPrime, trainSetSize } from './schema.ts';

const MINIMAL = { task: { kind: 'modular' }, model: { kind: 'mlp' } };

/** The problems resolveConfig reports for `raw` (fails the test if it accepts it). */
function problems(raw: unknown, overrides: string[] = []): ConfigProblem[] {
  try {
    resolveConfig(raw, overrides, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('config was accepted');
}

/** The single problem at `path`, checked to mention every fragment. */
function problemAt(raw: unknown, path: string, ...fragments: string[]): ConfigProblem {
  const found = problems(raw).filter((p) => p.path === path);
  expect(found, JSON.stringify(problems(raw))).toHaveLength(1);
  for (const f of fragments) expect(found[0]!.message).toContain(f);
  return found[0]!;
}

const withTask = (task: object, model: object = { kind: 'mlp' }) => ({ task, model });

describe('defaults', () => {
  it('fills every section of a minimal file', () => {
    const cfg = resolveConfig(MINIMAL, [], 'examples/tiny.yaml');
    expect(cfg.run).toEqual({
      name: 'tiny',
      steps: 1000,
      eval_every: 1,
      log_every: 100,
      checkpoint: { dir: '.grokstream/checkpoints', every: 0 },
      seeds: { data: 0, init: 0, order: 0 },
      backend: 'auto',
      graph_step: 'auto',
      stop_gate: null,
      tags: {},
    });
    expect(cfg.task).toEqual({ kind: 'modular', op: 'add', p: 59, train_fraction: 0.5 });
    expect(cfg.model).toEqual({ kind: 'mlp', hidden: [128], activation: 'relu', input: 'onehot', bias: true, init_scale: 1 });
    expect(cfg.optimizer).toMatchObject({ kind: 'adamw', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, batch_size: 'full' });
    expect(cfg.optimizer.schedule).toEqual({ warmup_steps: 0, decay: 'none', min_lr: 0, gamma: 0.1 });
    expect(cfg.probes).toEqual({
      every: 1,
      batch_size: 64,
      gop: { enabled: true, top_k: 8, per_layer: true },
      noise: true,
      hessian: { trace: false, top_eig: false, power_iters: 3, tr_h_sigma: false, tr_h_sigma_samples: 1, every: 1 },
      fourier: false,
    });
    expect(cfg.emit).toEqual({ buffer: 10_000, outage_limit_s: 300 });
  });

  it('names an inline config "run"', () => {
    expect(resolveConfig(MINIMAL).run.name).toBe('run');
  });

  it('applies the defaults of each task and model variant', () => {
    const sp = resolveConfig(withTask({ kind: 'sparse_parity' }));
    expect(sp.task).toEqual({ kind: 'sparse_parity', n_bits: 12, k: 3, n_train: 2000, n_test: 1000 });
    const dl = resolveConfig(withTask({ kind: 'deep_linear', input_dim: 4, output_dim: 3 }, { kind: 'deep_linear' }));
    expect(dl.task).toMatchObject({ teacher: 'diagonal', teacher_scale: 1, online: false, noise_std: 0, singular_values: [1, 2 / 3, 1 / 3] });
    expect(dl.model).toEqual({ kind: 'deep_linear', depth: 3, width: 16, gamma: 0.1, bias: false });
    const tr = resolveConfig(withTask({ kind: 'modular' }, { kind: 'transformer' }));
    expect(tr.model).toEqual({ kind: 'transformer', n_layers: 1, d_model: 128, n_heads: 4, d_mlp: 512, activation: 'relu', layernorm: false });
  });

  it('gives a random teacher no singular values', () => {
    const cfg = resolveConfig(withTask({ kind: 'deep_linear', teacher: 'random' }, { kind: 'deep_linear' }));
    expect(cfg.task.kind === 'deep_linear' && cfg.task.singular_values).toBeUndefined();
  });

  it('expands the seed shorthand, explicit seeds winning', () => {
    expect(resolveConfig({ ...MINIMAL, run: { seed: 7 } }).run.seeds).toEqual({ data: 7, init: 7, order: 7 });
    expect(resolveConfig({ ...MINIMAL, run: { seed: 7, seeds: { init: 3 } } }).run.seeds).toEqual({ data: 7, init: 3, order: 7 });
  });

  it('fills each optimizer kind with its own fields', () => {
    const sgd = resolveConfig({ ...MINIMAL, optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true } }).optimizer;
    expect(sgd).toMatchObject({ kind: 'sgd', momentum: 0.9, nesterov: true });
    expect(sgd).not.toHaveProperty('betas');
    expect(resolveConfig({ ...MINIMAL, optimizer: { kind: 'adam' } }).optimizer).toMatchObject({ kind: 'adam', betas: [0.9, 0.999] });
  });

  it('stores scalar tags as text', () => {
    expect(resolveConfig({ ...MINIMAL, run: { tags: { sweep: 'a', lr: 0.001, on: true } } }).run.tags).toEqual({ sweep: 'a', lr: '0.001', on: 'true' });
  });
});

describe('errors', () => {
  it('rejects an unknown top-level key, suggesting the near one', () => {
    problemAt({ ...MINIMAL, optimiser: {} }, 'optimiser', 'unknown key', 'did you mean "optimizer"', 'allowed here: run, task, model');
  });

  it('rejects unknown nested keys, listing the keys of the chosen variant', () => {
    problemAt({ ...MINIMAL, optimizer: { kind: 'adamw', momentum: 0.9 } }, 'optimizer.momentum', 'unknown key', 'betas');
    problemAt({ ...MINIMAL, probes: { hessian: { traces: true } } }, 'probes.hessian.traces', 'did you mean "trace"');
    problemAt(withTask({ kind: 'modular', n_bits: 3 }), 'task.n_bits', 'allowed here: kind, op, p, train_fraction');
  });

  it('names the wrong type and the value', () => {
    problemAt({ ...MINIMAL, run: { steps: 'many' } }, 'run.steps', 'expected a number', '(got "many")');
    problemAt({ ...MINIMAL, run: { steps: 2.5 } }, 'run.steps', 'expected an integer', '(got 2.5)');
    problemAt({ ...MINIMAL, probes: { noise: 'yes' } }, 'probes.noise', 'true or false');
    problemAt(withTask({ kind: 'modular' }, { kind: 'mlp', hidden: 128 }), 'model.hidden', 'expected a list', '(got 128)');
    problemAt({ ...MINIMAL, optimizer: { batch_size: 'all' } }, 'optimizer.batch_size', 'positive integer or "full"', '"all"');
  });

  it('names the range and the value', () => {
    problemAt({ ...MINIMAL, optimizer: { lr: -1 } }, 'optimizer.lr', 'must be > 0', '(got -1)');
    problemAt({ ...MINIMAL, optimizer: { kind: 'sgd', momentum: 1 } }, 'optimizer.momentum', 'must be < 1', '(got 1)');
    problemAt({ ...MINIMAL, optimizer: { betas: [0.9, 1.5] } }, 'optimizer.betas[1]', 'must be < 1', '(got 1.5)');
    problemAt(withTask({ kind: 'modular', train_fraction: 1 }), 'task.train_fraction', 'must be < 1');
    problemAt({ ...MINIMAL, run: { eval_every: 0 } }, 'run.eval_every', 'must be > 0', '(got 0)');
    problemAt(withTask({ kind: 'modular' }, { kind: 'mlp', hidden: [] }), 'model.hidden', 'at least 1 item');
    problemAt(withTask({ kind: 'modular' }, { kind: 'transformer', n_layers: 3 }), 'model.n_layers', 'one of 1 | 2', '(got 3)');
    problemAt(withTask({ kind: 'modular', op: 'xor' }), 'task.op', '"add" | "sub" | "mul" | "div" | "poly"', '"xor"');
  });

  it('rejects a non-prime modulus', () => {
    problemAt(withTask({ kind: 'modular', p: 57 }), 'task.p', 'prime', '(got 57)');
  });

  it('rejects k > n_bits', () => {
    problemAt(withTask({ kind: 'sparse_parity', n_bits: 4, k: 5 }), 'task.k', 'task.n_bits (4)', '(got 5)');
  });

  it('rejects n_heads that does not divide d_model', () => {
    problemAt(withTask({ kind: 'modular' }, { kind: 'transformer', d_model: 128, n_heads: 3 }), 'model.n_heads', 'divide model.d_model (128)');
  });

  it('rejects model/task mismatches', () => {
    problemAt(withTask({ kind: 'sparse_parity' }, { kind: 'transformer' }), 'model.kind', 'needs task.kind modular', 'sparse_parity');
    problemAt(withTask({ kind: 'modular' }, { kind: 'deep_linear' }), 'model.kind', 'needs task.kind deep_linear');
    problemAt(withTask({ kind: 'modular' }, { kind: 'mlp', input: 'embedding' }), 'model.embed_dim', 'required when model.input is embedding');
    problemAt(withTask({ kind: 'modular' }, { kind: 'mlp', embed_dim: 8 }), 'model.embed_dim', 'only used with model.input: embedding');
    problemAt(withTask({ kind: 'sparse_parity' }, { kind: 'mlp', input: 'embedding', embed_dim: 8 }), 'model.input', 'needs token inputs');
    problemAt({ ...withTask({ kind: 'sparse_parity' }), probes: { fourier: true } }, 'probes.fourier', 'only available for task.kind modular');
  });

  it('checks optimizer settings against each other and the run', () => {
    const opt = (optimizer: object, run: object = {}) => ({ ...MINIMAL, optimizer, run });
    problemAt(opt({ kind: 'sgd', nesterov: true }), 'optimizer.nesterov', 'momentum > 0');
    problemAt(opt({ schedule: { decay: 'step' } }), 'optimizer.schedule.step_size', 'required when decay is step');
    problemAt(opt({ schedule: { decay: 'cosine', step_size: 10 } }), 'optimizer.schedule.step_size', 'only used with decay: step');
    problemAt(opt({ lr: 0.1, schedule: { min_lr: 1 } }), 'optimizer.schedule.min_lr', '<= optimizer.lr');
    problemAt(opt({ schedule: { warmup_steps: 200 } }, { steps: 100 }), 'optimizer.schedule.warmup_steps', '<= run.steps (100)');
    problemAt(opt({ batch_switch: { at_step: 100, batch_size: 8 } }, { steps: 100 }), 'optimizer.batch_switch.at_step', '< run.steps');
    problemAt(opt({ batch_size: 5000 }), 'optimizer.batch_size', 'training set size (1741)');
  });

  it('requires the task and the model, naming their kinds', () => {
    problemAt({}, 'task', 'required', '"modular" | "sparse_parity" | "deep_linear"');
    problemAt({ task: { kind: 'vision' }, model: { kind: 'mlp' } }, 'task.kind', 'must be one of', '(got "vision")');
    problemAt({ task: { kind: 'modular' }, model: {} }, 'model.kind', 'required: one of "mlp" | "transformer" | "deep_linear"');
  });

  it('reports several problems at once', () => {
    const found = problems({ ...MINIMAL, run: { steps: 0, bogus: 1 }, optimizer: { lr: 0 } }).map((p) => p.path);
    expect(found.sort()).toEqual(['optimizer.lr', 'run.bogus', 'run.steps']);
  });
});

describe('helpers', () => {
  it('isPrime', () => {
    expect([2, 3, 5, 59, 97, 113].every(isPrime)).toBe(true);
    expect([0, 1, 4, 57, 91, 2.5, -7].some(isPrime)).toBe(false);
  });

  it('trainSetSize counts the div pair set without b = 0', () => {
    expect(trainSetSize({ kind: 'modular', op: 'add', p: 59, train_fraction: 0.5 })).toBe(1741); // round(3481 / 2)
    expect(trainSetSize({ kind: 'modular', op: 'div', p: 59, train_fraction: 0.5 })).toBe(1711); // 59 * 58 / 2
    const dl = resolveConfig(withTask({ kind: 'deep_linear', online: true }, { kind: 'deep_linear' })).task;
    expect(trainSetSize(dl)).toBe(Infinity);
  });
});
