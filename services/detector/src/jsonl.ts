// StepMetrics from JSON Lines, for replaying runs recorded outside grokstream (a PyTorch script's
// log, S1/S3-style). Each line is one step: at least run_id, step, train_loss, train_acc,
// test_loss, test_acc; the other StepMetrics fields are optional.
import type { StepMetrics } from '@grokstream/schemas';

export class JsonLinesError extends Error {
  override readonly name = 'JsonLinesError';
}

const REQUIRED = ['run_id', 'step', 'train_loss', 'train_acc', 'test_loss', 'test_acc'] as const;
const OPTIONAL_NUMBERS = ['grad_norm_sq', 'update_norm', 'softmax_collapse_frac', 'last_layer_norm', 'init_distance'] as const;

/** A JSON number, or one of the strings Python's json module writes for non-finite floats. */
function num(v: unknown): number | null | undefined {
  if (v === null) return null;
  if (typeof v === 'number') return v;
  if (v === 'NaN' || v === 'nan') return NaN;
  if (v === 'Infinity' || v === 'inf') return Infinity;
  if (v === '-Infinity' || v === '-inf') return -Infinity;
  return undefined;
}

export function parseStepLine(line: string, where: string): StepMetrics {
  let raw: Record<string, unknown>;
  try {
    // Python's json.dumps writes bare NaN/Infinity: accept them as the strings above.
    raw = JSON.parse(line.replace(/\b(-?Infinity|NaN)\b/g, '"$1"')) as Record<string, unknown>;
  } catch (err) {
    throw new JsonLinesError(`${where}: not JSON (${(err as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new JsonLinesError(`${where}: expected an object per line`);
  const missing = REQUIRED.filter((k) => !(k in raw));
  if (missing.length > 0) throw new JsonLinesError(`${where}: missing ${missing.join(', ')} (each line needs ${REQUIRED.join(', ')})`);
  if (typeof raw.run_id !== 'string' || raw.run_id === '') throw new JsonLinesError(`${where}: run_id must be a non-empty string`);
  const step = raw.step;
  if (typeof step !== 'number' || !Number.isInteger(step)) throw new JsonLinesError(`${where}: step must be an integer, got ${JSON.stringify(step)}`);
  const field = (k: string, nullable: boolean): number | null => {
    const v = num(raw[k]);
    if (v === undefined || (v === null && !nullable)) throw new JsonLinesError(`${where}: ${k} must be a number${nullable ? ' or null' : ''}, got ${JSON.stringify(raw[k])}`);
    return v;
  };
  const optional = Object.fromEntries(OPTIONAL_NUMBERS.map((k) => [k, k in raw ? field(k, true) : null]));
  const weightNorm = 'weight_norm' in raw ? field('weight_norm', false)! : NaN;
  return {
    event_id: `${raw.run_id}/${step}`,
    run_id: raw.run_id,
    seq: step,
    ts: typeof raw.ts === 'number' ? raw.ts : 0,
    step,
    train_loss: field('train_loss', false)!,
    train_acc: field('train_acc', true),
    test_loss: field('test_loss', true),
    test_acc: field('test_acc', true),
    lr: 'lr' in raw ? field('lr', false)! : NaN,
    weight_norm: weightNorm,
    layer_norms: [],
    grad_norm_sq: optional.grad_norm_sq!,
    update_norm: optional.update_norm!,
    softmax_collapse_frac: optional.softmax_collapse_frac!,
    last_layer_norm: optional.last_layer_norm!,
    init_distance: optional.init_distance!,
    extra: {},
  };
}

export function parseStepLines(text: string, source: string): StepMetrics[] {
  const out: StepMetrics[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    out.push(parseStepLine(line, `${source}:${i + 1}`));
  });
  return out;
}
