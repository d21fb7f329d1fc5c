// What a worker refuses to train (and dead-letters) instead of retrying for ever.
import { describe, expect, it } from 'vitest';
import type { SweepPoint } from '@grokstream/schemas';
import { pointProblem } from './worker-command.ts';

const point = (config_json: string): SweepPoint => ({
  event_id: 'e',
  run_id: 'sw-p3',
  seq: 3,
  ts: 1,
  sweep_id: 'sw',
  point_index: 3,
  point_count: 4,
  overrides: ['task.p=7'],
  config_json,
  config_hash: 'h',
  checkpoint_dir: null,
});

describe('pointProblem', () => {
  it('passes a point whose config resolves', () => {
    expect(pointProblem(point(JSON.stringify({ run: { steps: 10 }, task: { kind: 'modular', p: 7 }, model: { kind: 'mlp', hidden: [8] } })))).toBeUndefined();
  });

  it('names the point, the problem and the way out for a config that does not parse or resolve', () => {
    expect(pointProblem(point('{"task": '))).toMatch(/^point 3 of sweep sw \(sw-p3\): .*JSON.*; publish the sweep again with a config that loads$/);
    expect(pointProblem(point('{"task": {"kind": "nonsense"}}'))).toMatch(/^point 3 of sweep sw \(sw-p3\): .*task\.kind.*publish the sweep again/s);
  });
});
