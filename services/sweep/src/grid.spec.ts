import { describe, expect, it } from 'vitest';
import { expandRange, sweepPoints, SweepSpecError } from './grid.ts';

describe('sweep grid', () => {
  it('is the cartesian product of the axes, the first varying slowest, seeds last', () => {
    const points = sweepPoints({ axes: ['task.train_fraction=0.3,0.5', 'optimizer.weight_decay=0,1'], seeds: 2 });
    expect(points.map((p) => p.overrides.join(' '))).toEqual([
      'task.train_fraction=0.3 optimizer.weight_decay=0 run.seed=0',
      'task.train_fraction=0.3 optimizer.weight_decay=0 run.seed=1',
      'task.train_fraction=0.3 optimizer.weight_decay=1 run.seed=0',
      'task.train_fraction=0.3 optimizer.weight_decay=1 run.seed=1',
      'task.train_fraction=0.5 optimizer.weight_decay=0 run.seed=0',
      'task.train_fraction=0.5 optimizer.weight_decay=0 run.seed=1',
      'task.train_fraction=0.5 optimizer.weight_decay=1 run.seed=0',
      'task.train_fraction=0.5 optimizer.weight_decay=1 run.seed=1',
    ]);
    expect(points.map((p) => p.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(points[5]!.values).toEqual({ 'task.train_fraction': '0.5', 'optimizer.weight_decay': '0', 'run.seed': '1' });
  });

  it('zips keys into one axis whose values go in step', () => {
    const points = sweepPoints({ axes: ['optimizer.lr=1e-3,3e-3,1e-2', 'task.p=59', 'run.steps=3000,1500,800'], zip: [['optimizer.lr', 'run.steps']] });
    expect(points.map((p) => p.overrides.join(' '))).toEqual([
      'optimizer.lr=1e-3 run.steps=3000 task.p=59',
      'optimizer.lr=3e-3 run.steps=1500 task.p=59',
      'optimizer.lr=1e-2 run.steps=800 task.p=59',
    ]);
  });

  it('expands lo..hi..step ranges without float noise, hi included when on the grid', () => {
    expect(expandRange('x', '0.1..0.9..0.2')).toEqual(['0.1', '0.3', '0.5', '0.7', '0.9']);
    expect(expandRange('x', '0..1..0.3')).toEqual(['0', '0.3', '0.6', '0.9']);
    expect(expandRange('x', '1..3..1')).toEqual(['1', '2', '3']);
    expect(expandRange('x', 'a,b')).toBeNull();
    expect(sweepPoints({ axes: ['task.train_fraction=0.3..0.7..0.2'] }).map((p) => p.values['task.train_fraction'])).toEqual(['0.3', '0.5', '0.7']);
  });

  it('says what is wrong with a spec, and how to write it', () => {
    const bad = (spec: Parameters<typeof sweepPoints>[0]) => {
      try {
        sweepPoints(spec);
      } catch (err) {
        expect(err).toBeInstanceOf(SweepSpecError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ axes: ['lr'] })).toMatch(/"lr" is not a sweep axis: write key=a,b,c or key=lo..hi..step/);
    expect(bad({ axes: ['a b=1'] })).toMatch(/not a config key/);
    expect(bad({ axes: ['x=1,,2'] })).toMatch(/an empty value/);
    expect(bad({ axes: ['x=1,2,1'] })).toMatch(/1 is listed twice/);
    expect(bad({ axes: ['x=1,2', 'x=3'] })).toMatch(/x is swept twice/);
    expect(bad({ axes: ['x=0..1..0'] })).toMatch(/the step must be > 0/);
    expect(bad({ axes: ['x=1..0..0.1'] })).toMatch(/hi \(0\) is below lo \(1\)/);
    expect(bad({ axes: ['x=0..1..0.000001'] })).toMatch(/at most 10000/);
    expect(bad({ axes: ['x=1,2', 'y=1,2,3'], zip: [['x', 'y']] })).toMatch(/as many values each \(x: 2, y: 3\)/);
    expect(bad({ axes: ['x=1,2'], zip: [['x', 'z']] })).toMatch(/--zip names z, which is not swept/);
    expect(bad({ axes: ['run.seed=1,2'], seeds: 2 })).toMatch(/use one of them/);
    expect(bad({ axes: [], seeds: 0 })).toMatch(/--seeds must be a positive integer/);
    expect(bad({ axes: [] })).toMatch(/needs at least one axis/);
    expect(bad({ axes: ['a=1..100..1', 'b=1..101..1'] })).toMatch(/the grid has 10100 points/);
  });
});
