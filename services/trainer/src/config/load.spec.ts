import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.ts';
import { configJson, describeConfig, loadConfig, parseConfigYaml, resolveConfig, stableStringify } from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'grokstream-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('nothing thrown');
}

const MINIMAL_YAML = 'task:\n  kind: modular\nmodel:\n  kind: mlp\n';

describe('loadConfig', () => {
  it('reads a minimal file, naming the run after it', () => {
    const cfg = loadConfig(file('small-run.yaml', MINIMAL_YAML));
    expect(cfg.run.name).toBe('small-run');
    expect(cfg.task).toEqual({ kind: 'modular', op: 'add', p: 59, train_fraction: 0.5 });
  });

  it('keeps an explicit run name, and lets an override change it', () => {
    const path = file('named.yaml', `run:\n  name: mine\n${MINIMAL_YAML}`);
    expect(loadConfig(path).run.name).toBe('mine');
    expect(loadConfig(path, ['run.name=other']).run.name).toBe('other');
  });

  it('reads numbers the YAML 1.2 way', () => {
    const cfg = loadConfig(file('nums.yaml', `${MINIMAL_YAML}optimizer:\n  lr: 1e-3\n  weight_decay: 1.0\n`));
    expect(cfg.optimizer).toMatchObject({ lr: 0.001, weight_decay: 1 });
  });

  it('treats an empty file as an empty mapping', () => {
    const err = thrown(() => loadConfig(file('empty.yaml', '')));
    expect(err.problems.map((p) => p.path)).toEqual(['task', 'model']);
  });

  it('reports a YAML syntax error with file, line and column', () => {
    const path = file('broken.yaml', 'task:\n  kind: modular\nmodel: [mlp\n');
    const err = thrown(() => loadConfig(path));
    expect(err.problems[0]).toMatchObject({ line: expect.any(Number), col: expect.any(Number) });
    expect(err.problems[0]!.message).toContain('YAML syntax error');
    expect(err.format()).toContain(`${path}:4:1: YAML syntax error: Flow sequence in block collection`);
  });

  it('reports an unclosed quote with its position', () => {
    const err = thrown(() => parseConfigYaml('run:\n  name: "x\n', 'x.yaml'));
    expect(err.format().split('\n')[1]).toMatch(/^ {2}x\.yaml:\d+:\d+: YAML syntax error: Missing closing "quote$/);
  });

  it('rejects a key written twice', () => {
    const err = thrown(() => parseConfigYaml('run:\n  steps: 1\n  steps: 2\n', 'dup.yaml'));
    expect(err.problems[0]).toMatchObject({ line: 3, col: 3, message: 'YAML syntax error: Map keys must be unique' });
  });

  it('reports a missing file as a ConfigError', () => {
    const err = thrown(() => loadConfig(join(dir, 'nope.yaml')));
    expect(err.format()).toContain('cannot read the file');
  });

  it('names the file in validation errors', () => {
    const path = file('bad.yaml', `${MINIMAL_YAML}optimizer:\n  lr: -1\n`);
    const text = thrown(() => loadConfig(path)).format();
    expect(text.split('\n')).toEqual([`invalid config ${path} (1 problem):`, '  optimizer.lr: must be > 0 (got -1)', expect.stringMatching(/^hint: /)]);
  });

  it('rejects a top level that is not a mapping', () => {
    expect(thrown(() => loadConfig(file('list.yaml', '- 1\n- 2\n'))).problems[0]!.message).toContain('must be a mapping');
  });
});

describe('ConfigError', () => {
  it('is an Error whose message is the formatted report', () => {
    const err = new ConfigError('f.yaml', [{ path: 'a.b', message: 'bad' }]);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ConfigError');
    expect(err.message).toBe(err.format());
    expect(err.format()).toBe(`invalid config f.yaml (1 problem):\n  a.b: bad\nhint: ${err.hint}`);
  });
});

describe('stable JSON', () => {
  it('does not depend on key order', () => {
    const a = resolveConfig({ task: { kind: 'modular', p: 61, op: 'sub' }, model: { kind: 'mlp' }, run: { steps: 5, seed: 1 } });
    const b = resolveConfig({ run: { seed: 1, steps: 5 }, model: { kind: 'mlp' }, task: { op: 'sub', p: 61, kind: 'modular' } });
    expect(configJson(a)).toBe(configJson(b));
    expect(JSON.parse(configJson(a))).toEqual(a);
  });

  it('sorts keys at every depth and keeps list order', () => {
    expect(stableStringify({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('differs when a value differs', () => {
    const base = { task: { kind: 'modular' }, model: { kind: 'mlp' } };
    expect(configJson(resolveConfig(base))).not.toBe(configJson(resolveConfig(base, ['optimizer.lr=0.002'])));
  });
});

describe('describeConfig', () => {
  it('summarizes task, model, optimizer and length on one line', () => {
    const cfg = resolveConfig({ task: { kind: 'modular' }, model: { kind: 'mlp', activation: 'quadratic' }, optimizer: { lr: 3e-3, weight_decay: 1 } }, [], 'ref.yaml');
    expect(describeConfig(cfg)).toBe('ref: modular add p=59 train=0.5 | mlp[128] quadratic | adamw lr=0.003 wd=1 batch=full | 1000 steps');
  });
});
