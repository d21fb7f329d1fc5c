import { describe, expect, it } from 'vitest';
import { canonicalJson, configHash, sweepId } from './point-identity.ts';

const cfg = (over: Record<string, unknown> = {}) => ({
  run: { name: 'a', steps: 800, seeds: { data: 0, init: 0, order: 0 }, tags: { sweep: 's1' }, checkpoint: { dir: '/x', every: 0 }, log_every: 100, backend: 'auto' },
  task: { kind: 'modular', p: 59, train_fraction: 0.5 },
  optimizer: { kind: 'adamw', lr: 0.003 },
  emit: { buffer: 10 },
  ...over,
});

describe('point identity', () => {
  it('writes JSON with sorted keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
  });

  it('is the same for configs that train the same, whatever their names, tags, checkpoints or backend', () => {
    const base = configHash(cfg());
    expect(base).toMatch(/^[0-9a-f]{16}$/);
    expect(configHash(cfg({ run: { ...cfg().run, name: 'b', tags: {}, checkpoint: { dir: '/y', every: 5 }, log_every: 1, backend: 'wasm' }, emit: { buffer: 99 } }))).toBe(base);
    // key order does not matter
    const c = cfg();
    const reversed = Object.fromEntries(Object.entries(c).reverse().map(([k, v]) => [k, Object.fromEntries(Object.entries(v).reverse())]));
    expect(Object.keys(reversed)[0]).toBe('emit');
    expect(configHash(reversed)).toBe(base);
  });

  it('differs when anything trained differs', () => {
    const base = configHash(cfg());
    expect(configHash(cfg({ task: { kind: 'modular', p: 59, train_fraction: 0.3 } }))).not.toBe(base);
    expect(configHash(cfg({ run: { ...cfg().run, seeds: { data: 1, init: 0, order: 0 } } }))).not.toBe(base);
    expect(configHash(cfg({ run: { ...cfg().run, steps: 801 } }))).not.toBe(base);
  });

  it('names a sweep after its config, the same command giving the same id', () => {
    const a = sweepId('modular-addition-grokking', 'abc', { axes: ['x=1,2'] });
    expect(a).toMatch(/^modular-addition-grokking-[0-9a-f]{8}$/);
    expect(sweepId('modular-addition-grokking', 'abc', { axes: ['x=1,2'] })).toBe(a);
    expect(sweepId('modular-addition-grokking', 'abc', { axes: ['x=1,3'] })).not.toBe(a);
    expect(sweepId('my config!', 'abc', {})).toMatch(/^my-config--[0-9a-f]{8}$/);
  });
});
