// The manifest of the detector's recorded evaluation runs (eval/recordings.yaml): which trainer
// config and overrides each recording comes from, or which documented curve, and what it stands
// for. Validated at the edge, so a typo names the entry and the key.
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { parse as parseYaml } from 'yaml';

/** What a recording is in the set for (issue 11's coverage list; eval/README.md). */
export const RECORDING_CATEGORIES = [
  'grokking',
  'slow_grokking',
  'never_grokking',
  'fast_grokking',
  'operations',
  'sparse_parity',
  'deep_linear',
  'exact_zero_loss',
  'anti_grokking',
  'divergence',
] as const;
export type RecordingCategory = (typeof RECORDING_CATEGORIES)[number];

const Name = z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'lower-case letters, digits, dots and dashes');
const Common = {
  name: Name,
  categories: z.array(z.enum(RECORDING_CATEGORIES)).min(1),
  note: z.string().optional(),
};
const Run = z.strictObject({ ...Common, config: z.string().min(1), set: z.array(z.string()).default([]) });
const Timeline = z.strictObject({
  ...Common,
  source: z.string().min(1),
  timeline: z.strictObject({
    metric: z.string().min(1),
    // Each series is interpolated over the points that give it; the first and last point give both.
    points: z.array(z.strictObject({ step: z.int().min(0), generalization: z.number().optional(), train_loss: z.number().optional() })).min(2),
  }),
});
const Manifest = z.strictObject({ recordings: z.array(z.union([Run, Timeline])).min(1) });

export type RecordingEntry = z.output<typeof Run>;
export type TimelineEntry = z.output<typeof Timeline>;
export type ManifestEntry = RecordingEntry | TimelineEntry;

export function parseRecordingManifest(raw: unknown, source: string): ManifestEntry[] {
  const r = Manifest.safeParse(raw);
  if (!r.success) throw new Error(`invalid recordings manifest ${source}:\n${r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  const seen = new Set<string>();
  for (const e of r.data.recordings) {
    if (seen.has(e.name)) throw new Error(`invalid recordings manifest ${source}: the name ${e.name} is used twice`);
    seen.add(e.name);
    if ('timeline' in e) {
      const steps = e.timeline.points.map((p) => p.step);
      if (steps.some((s, i) => i > 0 && s <= steps[i - 1]!)) throw new Error(`invalid recordings manifest ${source}: ${e.name}'s timeline steps must increase`);
      for (const end of [e.timeline.points[0]!, e.timeline.points.at(-1)!]) {
        if (end.generalization === undefined || end.train_loss === undefined) throw new Error(`invalid recordings manifest ${source}: ${e.name}'s first and last timeline points need both generalization and train_loss`);
      }
    }
  }
  return r.data.recordings;
}

export function loadRecordingManifest(path: string): ManifestEntry[] {
  return parseRecordingManifest(parseYaml(readFileSync(path, 'utf8')), path);
}
