import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVAL_DIR } from './eval-run.ts';
import { loadRecordingManifest, parseRecordingManifest, RECORDING_CATEGORIES } from './recordings.ts';

describe('the recordings manifest', () => {
  it('covers every category the evaluation set promises (eval/README.md)', () => {
    const entries = loadRecordingManifest(join(EVAL_DIR, 'recordings.yaml'));
    const covered = new Set(entries.flatMap((e) => e.categories));
    expect(RECORDING_CATEGORIES.filter((c) => !covered.has(c))).toEqual([]);
  });

  it('names the entry and key of a mistake', () => {
    expect(() => parseRecordingManifest({ recordings: [{ name: 'A b', categories: ['grokking'], config: 'x.yaml' }] }, 'm.yaml')).toThrow(/recordings\.0\.name/);
    expect(() => parseRecordingManifest({ recordings: [{ name: 'a', categories: ['nope'], config: 'x.yaml' }] }, 'm.yaml')).toThrow(/recordings\.0/);
    const twice = { name: 'a', categories: ['grokking'], config: 'x.yaml' };
    expect(() => parseRecordingManifest({ recordings: [twice, twice] }, 'm.yaml')).toThrow(/the name a is used twice/);
    const timeline = (points: unknown[]) => ({ recordings: [{ name: 't', categories: ['anti_grokking'], source: 's', timeline: { metric: 'c', points } }] });
    expect(() => parseRecordingManifest(timeline([{ step: 5, generalization: 1, train_loss: 1 }, { step: 3, generalization: 1, train_loss: 1 }]), 'm.yaml')).toThrow(/steps must increase/);
    expect(() => parseRecordingManifest(timeline([{ step: 0, generalization: 1 }, { step: 3, generalization: 1, train_loss: 1 }]), 'm.yaml')).toThrow(/first and last timeline points need both/);
  });
});
