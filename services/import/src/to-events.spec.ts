import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventCodec, type AnyEvent, type RunFinished, type RunStarted, type StepMetrics } from '@grokstream/schemas';
import { parseLog } from './parse-log.ts';
import { resolveMapping } from './mapping.ts';
import { IMPORT_VERSION, logToEvents, type ImportOptions } from './to-events.ts';
import { importErrorOf } from './testing.ts';

const NOW = Date.UTC(2025, 0, 1);
const OPTIONS: ImportOptions = { runId: 'keras-1', name: 'keras', source: 'epochs.csv', nowMs: NOW };

function importText(text: string, source = 'epochs.csv', map: Record<string, string> = {}, o: Partial<ImportOptions> = {}) {
  const rows = parseLog(text, source);
  return logToEvents(rows, resolveMapping(rows.columns, map, source), { ...OPTIONS, source, ...o });
}

const stepsOf = (events: AnyEvent[]) => events.flatMap((e) => (e.name === 'StepMetrics' ? [e.value] : []));
const startedOf = (events: AnyEvent[]) => events[0]!.value as RunStarted;
const finishedOf = (events: AnyEvent[]) => events[events.length - 1]!.value as RunFinished;

const KERAS = 'epoch,accuracy,loss,val_accuracy,val_loss\n0,0.1,2.5,0.05,2.6\n1,0.5,1.5,0.06,2.7\n2,0.99,0.2,0.07,2.9\n';

describe('the event sequence', () => {
  it('is RunStarted, one StepMetrics per row in step order, RunFinished, with contiguous seq', () => {
    const { events, steps } = importText(KERAS);
    expect(steps).toBe(3);
    expect(events.map((e) => e.name)).toEqual(['RunStarted', 'StepMetrics', 'StepMetrics', 'StepMetrics', 'RunFinished']);
    expect(events.map((e) => e.value.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(new Set(events.map((e) => e.value.run_id))).toEqual(new Set(['keras-1']));
    expect(stepsOf(events).map((s) => s.step)).toEqual([0, 1, 2]);
    expect(finishedOf(events)).toMatchObject({ step: 2, reason: 'completed', command_id: null, error: null, summary: {} });
  });

  it('carries the values of the mapped columns', () => {
    const [s0, , s2] = stepsOf(importText(KERAS).events);
    expect(s0).toMatchObject({ step: 0, train_loss: 2.5, train_acc: 0.1, test_loss: 2.6, test_acc: 0.05 });
    expect(s2).toMatchObject({ step: 2, train_loss: 0.2, train_acc: 0.99, test_loss: 2.9, test_acc: 0.07 });
  });

  it('is valid under the current Avro schemas', () => {
    const codec = EventCodec.load();
    const text = 'step,loss,val_loss,lr,gpu_mem\n1,2,nan,0.1,\n2,inf,,0.1,3.5\n';
    for (const e of importText(text, 'log.csv').events) {
      const decoded = codec.decode(codec.encode(e.name, e.value as never));
      expect(decoded.name).toBe(e.name);
    }
  });

  it('sorts rows that are out of order', () => {
    const { events } = importText('step,loss\n3,0.3\n1,0.1\n2,0.2\n', 'log.csv');
    expect(stepsOf(events).map((s) => [s.step, s.train_loss, s.seq])).toEqual([
      [1, 0.1, 1],
      [2, 0.2, 2],
      [3, 0.3, 3],
    ]);
    expect(finishedOf(events).step).toBe(3);
  });

  it('derives event ids from the run id and the step, so a second import gives the same ids', () => {
    const a = importText(KERAS).events;
    const b = importText(KERAS, 'epochs.csv', {}, { nowMs: NOW + 60_000 }).events;
    const other = importText(KERAS, 'epochs.csv', {}, { runId: 'keras-2' }).events;
    expect(b.map((e) => e.value.event_id)).toEqual(a.map((e) => e.value.event_id));
    expect(new Set(a.map((e) => e.value.event_id)).size).toBe(a.length);
    for (const e of a) expect(e.value.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(other.map((e) => e.value.event_id).filter((id) => a.some((x) => x.value.event_id === id))).toEqual([]);
  });
});

describe('what the log does not have', () => {
  it('is null where the schema allows it and NaN for lr and weight_norm', () => {
    const [s] = stepsOf(importText('step,loss\n1,2.5\n', 'log.csv').events) as [StepMetrics];
    expect(s).toMatchObject({
      train_acc: null,
      test_loss: null,
      test_acc: null,
      layer_norms: [],
      grad_norm_sq: null,
      update_norm: null,
      softmax_collapse_frac: null,
      last_layer_norm: null,
      init_distance: null,
      extra: {},
    });
    expect(s.lr).toBeNaN();
    expect(s.weight_norm).toBeNaN();
  });

  it('is null (or NaN) for an empty cell of a mapped column, too', () => {
    const [s1, s2] = stepsOf(importText('step,loss,val_loss,lr\n1,2.5,,NA\n2,2.4,2.6,0.01\n', 'log.csv').events) as [StepMetrics, StepMetrics];
    expect(s1.test_loss).toBeNull();
    expect(s1.lr).toBeNaN();
    expect(s2).toMatchObject({ test_loss: 2.6, lr: 0.01 });
  });

  it('keeps non-finite values the log recorded: that run did diverge', () => {
    const [, s2] = stepsOf(importText('step,loss,val_loss\n1,2.5,2.6\n2,nan,inf\n', 'log.csv').events) as [StepMetrics, StepMetrics];
    expect(s2.train_loss).toBeNaN();
    expect(s2.test_loss).toBe(Infinity);
  });

  it('leaves out a step with no train loss and says so', () => {
    const { events, steps, skipped } = importText('step,loss,val_loss\n1,2.5,\n2,,2.6\n3,2.3,\n', 'log.csv');
    expect(steps).toBe(2);
    expect(stepsOf(events).map((s) => s.step)).toEqual([1, 3]);
    expect(skipped).toEqual([{ line: 3, step: 2 }]);
    const err = importErrorOf(() => importText('step,loss,val_loss\n1,,2.6\n', 'log.csv'));
    expect(err.code).toBe('no-rows');
    expect(err.message).toBe('log.csv: no row has a train loss in column "loss"; a grokstream step needs one (is --map train_loss=loss the right column?)');
  });

  it('describes an imported run truthfully in RunStarted', () => {
    const { events } = importText(KERAS, 'epochs.csv', {}, { tags: { sweep: 'keras' } });
    const started = startedOf(events);
    expect(started).toMatchObject({
      seq: 0,
      ts: NOW,
      seeds: { data: -1, init: -1, order: -1 },
      task: 'imported',
      model: '',
      layer_names: [],
      param_count: 0,
      backend: 'imported',
      host: '',
      resumed_from_step: null,
      tags: { sweep: 'keras' },
    });
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string };
    expect(started.grokstream_version).toBe(pkg.version);
    expect(IMPORT_VERSION).toBe(pkg.version);
  });

  it('records the source and the mapping in config_json, never with a field as a key', () => {
    const rows = parseLog('step,training_loss,learning_rate,phase\n1,2.5,0.1,warmup\n', 'runs/a.csv');
    const mapping = resolveMapping(rows.columns, { step: 'step' });
    const { events } = logToEvents(rows, mapping, { ...OPTIONS, name: 'run-a', source: 'runs/a.csv' });
    const config = startedOf(events).config_json;
    expect(JSON.parse(config)).toEqual({
      run: { name: 'run-a' },
      import: {
        source: 'runs/a.csv',
        format: 'csv',
        mapping: [
          { field: 'step', column: 'step', from: 'map' },
          { field: 'train_loss', column: 'training_loss', from: 'automatic' },
          { field: 'lr', column: 'learning_rate', from: 'automatic' },
        ],
        extra: [],
        ignored: ['phase'],
        rows: 1,
        skipped_steps: 0,
      },
    });
    // The store reads hyperparameters by key at any depth (visitParamHas(config_json, 'lr')).
    for (const key of ['lr', 'weight_decay', 'train_fraction', 'width', 'hidden', 'seed']) expect(config).not.toMatch(new RegExp(`"${key}"\\s*:`));
  });
});

describe('extra and ignored columns', () => {
  it('carries unmapped numeric columns in extra and leaves text or empty columns out', () => {
    const text = 'step,loss,gpu_mem,epoch,phase,empty\n1,2.5,3.5,0,warmup,\n2,2.4,,0,train,\n3,2.3,3.6,1,train,NA\n';
    const { events, extra, ignored } = importText(text, 'log.csv');
    expect(extra).toEqual(['gpu_mem', 'epoch']);
    expect(ignored).toEqual(['phase', 'empty']);
    expect(stepsOf(events).map((s) => s.extra)).toEqual([{ gpu_mem: 3.5, epoch: 0 }, { epoch: 0 }, { gpu_mem: 3.6, epoch: 1 }]);
  });
});

describe('steps logged on several rows', () => {
  it('merges rows of one step that fill different columns (Lightning CSVLogger)', () => {
    const text = 'epoch,step,train_loss,val_loss,val_acc\n0,49,2.5,,\n0,49,,2.6,0.1\n1,99,1.5,,\n1,99,,2.2,0.3\n';
    const { events, skipped } = importText(text, 'metrics.csv');
    expect(skipped).toEqual([]);
    expect(stepsOf(events).map((s) => [s.step, s.train_loss, s.test_loss, s.test_acc, s.extra])).toEqual([
      [49, 2.5, 2.6, 0.1, { epoch: 0 }],
      [99, 1.5, 2.2, 0.3, { epoch: 1 }],
    ]);
  });

  it('refuses two rows of one step with different values, naming both lines', () => {
    const err = importErrorOf(() => importText('epoch,loss,val_loss\n0,2.5,2.6\n1,2.0,2.1\n0,2.4,2.6\n'));
    expect(err.code).toBe('duplicate-step');
    expect(err.message).toBe(
      'epochs.csv lines 2 and 4 both hold step 0, with different values of "loss" (2.5 and 2.4); keep one of the two rows (a log appended to by a restarted run?)',
    );
    expect(importText('epoch,loss\n0,nan\n0,nan\n').steps).toBe(1); // a repeated row says nothing new
  });
});

describe('time', () => {
  it('is the import clock plus the step in ms when the log has no time column', () => {
    const { events } = importText(KERAS);
    expect(events.map((e) => e.value.ts)).toEqual([NOW, NOW + 0, NOW + 1, NOW + 2, NOW + 2]);
  });

  it('comes from a time column: Unix seconds, milliseconds or ISO 8601', () => {
    const t0 = Date.UTC(2024, 4, 1, 12);
    const text = `step,loss,wall_time\n1,2.5,${t0 / 1000}\n2,2.4,${t0 + 1500}\n3,2.3,2024-05-01T12:00:03.250Z\n`;
    const { events } = importText(text, 'log.csv');
    expect(events.map((e) => e.value.ts)).toEqual([t0, t0, t0 + 1500, t0 + 3250, t0 + 3250]);
    expect(startedOf(events).config_json).toContain('{"field":"time","column":"wall_time","from":"automatic"}');
  });

  it('refuses a time column that holds no times, and says how to leave it out', () => {
    const err = importErrorOf(() => importText('step,loss,time\n1,2.5,12.5\n', 'log.csv'));
    expect(err.code).toBe('bad-time');
    expect(err.message).toBe(
      'log.csv line 2: column "time" is 12.5, not a time since 2000 (Unix seconds or milliseconds, or an ISO 8601 date such as 2024-05-01T12:00:00Z); ' +
        'if it is something else (e.g. seconds elapsed), import without it (--map time=)',
    );
    expect(importErrorOf(() => importText('step,loss,time\n1,2.5,soon\n', 'log.csv')).message).toMatch(/^log\.csv line 2: column "time" is "soon", not a time since 2000/);
    expect(importErrorOf(() => importText('step,loss,time\n1,2.5,1714564800\n2,2.4,\n', 'log.csv')).message).toBe(
      'log.csv line 3: column "time" (the time) is empty; give every row its time, or import without it (--map time=) to date the events at the import',
    );
    const { events, extra } = importText('step,loss,time\n1,2.5,12.5\n', 'log.csv', { time: '' });
    expect(extra).toEqual(['time']);
    expect(events[1]!.value.ts).toBe(NOW + 1);
  });
});

describe('cell errors', () => {
  it('names the file, line and column of a cell that is not a number, and the way out', () => {
    const lines = ['epoch,accuracy,loss,val_accuracy,val_loss', ...Array.from({ length: 11 }, (_, i) => `${i},0.5,1,0.1,2`), '11,0.5,1,0.1,abc'];
    const err = importErrorOf(() => importText(`${lines.join('\n')}\n`));
    expect(err.code).toBe('not-a-number');
    expect(err.kind).toBe('data');
    expect(err.message).toBe('epochs.csv line 13: column "val_loss" is "abc", not a number; correct it, leave it empty for "no value", or import without it (--map test_loss=)');
  });

  it('says key, not column, in a JSON Lines log', () => {
    const err = importErrorOf(() => importText('{"step": 1, "loss": 2}\n{"step": 2, "loss": "x"}\n', 'run.jsonl'));
    expect(err.message).toBe(
      'run.jsonl line 2: key "loss" is "x", not a number; correct it, leave it empty for "no value" (the step is then left out), or name the train loss column with --map train_loss=COLUMN',
    );
  });

  it('needs a whole step ≥ 0 on every row', () => {
    expect(importErrorOf(() => importText('step,loss\n1.5,2\n', 'log.csv')).message).toBe(
      'log.csv line 2: column "step" (the step) is 1.5, not a whole number ≥ 0; steps count optimisation steps or epochs',
    );
    expect(importErrorOf(() => importText('step,loss\n-1,2\n', 'log.csv')).code).toBe('bad-step');
    expect(importErrorOf(() => importText('step,loss\n1,2\n,2\n', 'log.csv')).message).toBe('log.csv line 3: column "step" (the step) is empty; every row needs its step');
    expect(importErrorOf(() => importText('step,loss\nfirst,2\n', 'log.csv')).message).toBe(
      'log.csv line 2: column "step" is "first", not a number; correct it, or name the step column with --map step=COLUMN',
    );
  });
});

describe('JSON Lines', () => {
  it('imports a hand-written log like a CSV one', () => {
    const text = [
      '{"step": 1, "train_loss": 2.3, "train_acc": 0.1, "test_loss": 2.4, "test_acc": 0.05, "lr": 0.001}',
      '{"step": 2, "train_loss": 2.1, "train_acc": 0.2, "lr": 0.001, "grad_norm_sq": 0.5}',
    ].join('\n');
    const { events } = importText(text, 'run.jsonl');
    const [s1, s2] = stepsOf(events) as [StepMetrics, StepMetrics];
    expect(s1).toMatchObject({ step: 1, train_loss: 2.3, train_acc: 0.1, test_loss: 2.4, test_acc: 0.05, lr: 0.001, grad_norm_sq: null });
    expect(s2).toMatchObject({ step: 2, train_loss: 2.1, test_loss: null, test_acc: null, grad_norm_sq: 0.5 });
    expect(JSON.parse(startedOf(events).config_json).import.format).toBe('jsonl');
  });
});
