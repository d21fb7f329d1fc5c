import { describe, expect, it } from 'vitest';
import { STEP_METRIC_FIELDS } from '@grokstream/schemas';
import { IMPORT_FIELDS, resolveMapping } from './mapping.ts';
import { importErrorOf } from './testing.ts';

describe('automatic mapping', () => {
  it('reads a Keras CSVLogger header: step = epoch', () => {
    const m = resolveMapping(['epoch', 'accuracy', 'loss', 'val_accuracy', 'val_loss', 'lr'], {});
    expect(m.fields).toEqual({ step: 'epoch', train_acc: 'accuracy', train_loss: 'loss', test_acc: 'val_accuracy', test_loss: 'val_loss', lr: 'lr' });
    expect(Object.values(m.origin).every((o) => o === 'automatic')).toBe(true);
    expect(m.unmapped).toEqual([]);
  });

  it('reads a Lightning CSVLogger header: step wins over epoch, which stays a column', () => {
    const m = resolveMapping(['epoch', 'step', 'train_loss', 'train_acc', 'val_loss', 'val_acc', 'learning_rate'], {});
    expect(m.fields).toEqual({ step: 'step', train_loss: 'train_loss', train_acc: 'train_acc', test_loss: 'val_loss', test_acc: 'val_acc', lr: 'learning_rate' });
    expect(m.unmapped).toEqual(['epoch']);
  });

  it('knows every listed name, ignores case and reads / - . and spaces as _', () => {
    const cases: Array<[string, string]> = [
      ['global_step', 'step'],
      ['iteration', 'step'],
      ['training_loss', 'train_loss'],
      ['acc', 'train_acc'],
      ['train_accuracy', 'train_acc'],
      ['valid_loss', 'test_loss'],
      ['test_loss', 'test_loss'],
      ['test_accuracy', 'test_acc'],
      ['val_accuracy', 'test_acc'],
      ['Val/Acc', 'test_acc'],
      ['val-loss', 'test_loss'],
      ['Learning Rate', 'lr'],
      ['weight_norm', 'weight_norm'],
      ['wall_time', 'time'],
      ['timestamp', 'time'],
      ['grad_norm_sq', 'grad_norm_sq'], // any StepMetrics field by its own name
      ['init_distance', 'init_distance'],
    ];
    for (const [column, field] of cases) {
      const columns = field === 'step' ? [column, 'loss'] : field === 'train_loss' ? ['step', column] : ['step', 'loss', column];
      expect(resolveMapping(columns, {}).fields, column).toMatchObject({ [field]: column });
    }
  });

  it('prefers the more specific name and keeps the other as a column', () => {
    const m = resolveMapping(['iteration', 'loss', 'train_loss', 'val_loss', 'test_loss'], {});
    expect(m.fields).toMatchObject({ train_loss: 'train_loss', test_loss: 'test_loss' });
    expect(m.unmapped).toEqual(['loss', 'val_loss']);
  });

  it('leaves unknown columns unmapped, in file order', () => {
    const m = resolveMapping(['step', 'gpu_mem', 'loss', 'phase'], {});
    expect(m.unmapped).toEqual(['gpu_mem', 'phase']);
  });
});

describe('explicit mapping', () => {
  it('--map pairs win over well-known names, and the displaced column stays a column', () => {
    const m = resolveMapping(['epoch', 'n', 'loss', 'smoothed_loss', 'val_loss'], { step: 'n', train_loss: 'smoothed_loss' });
    expect(m.fields).toMatchObject({ step: 'n', train_loss: 'smoothed_loss', test_loss: 'val_loss' });
    expect(m.origin).toMatchObject({ step: 'map', train_loss: 'map', test_loss: 'automatic' });
    expect(m.unmapped).toEqual(['epoch', 'loss']);
  });

  it('a column taken by --map is not found again by its name', () => {
    const m = resolveMapping(['step', 'loss', 'val_loss'], { test_loss: 'loss', train_loss: 'val_loss' });
    expect(m.fields).toMatchObject({ train_loss: 'val_loss', test_loss: 'loss' });
    expect(m.unmapped).toEqual([]);
  });

  it('field= leaves a field out even when a column has its name', () => {
    const m = resolveMapping(['step', 'loss', 'time', 'lr'], { time: '', lr: ' ' });
    expect(m.fields.time).toBeUndefined();
    expect(m.fields.lr).toBeUndefined();
    expect(m.unmapped).toEqual(['time', 'lr']);
  });

  it('the keras example mapping, spelled out, equals the automatic one', () => {
    const columns = ['epoch', 'accuracy', 'loss', 'val_accuracy', 'val_loss'];
    const explicit = resolveMapping(columns, { step: 'epoch', train_loss: 'loss', train_acc: 'accuracy', test_loss: 'val_loss', test_acc: 'val_accuracy' });
    expect(explicit.fields).toEqual(resolveMapping(columns, {}).fields);
    expect(Object.values(explicit.origin).every((o) => o === 'map')).toBe(true);
  });
});

describe('mapping errors', () => {
  it('lists the fields allowed for an unknown field', () => {
    const err = importErrorOf(() => resolveMapping(['step', 'loss'], { val_loss: 'loss' }, 'e.csv'));
    expect(err.code).toBe('unknown-field');
    expect(err.kind).toBe('mapping');
    expect(err.message).toBe(`e.csv: --map val_loss=loss: "val_loss" is not a grokstream field; the fields are ${IMPORT_FIELDS.join(', ')}`);
    for (const f of ['step', 'time', ...STEP_METRIC_FIELDS]) expect(err.message).toContain(f);
  });

  it('lists the columns present for a column the log does not have', () => {
    const err = importErrorOf(() => resolveMapping(['epoch', 'loss', 'val_loss'], { test_acc: 'val_acc' }, 'e.csv'));
    expect(err.code).toBe('unknown-column');
    expect(err.message).toBe('e.csv: --map test_acc=val_acc: the log has no column "val_acc"; its columns are "epoch", "loss", "val_loss"');
  });

  it('refuses one column for two fields', () => {
    const err = importErrorOf(() => resolveMapping(['step', 'loss'], { train_loss: 'loss', test_loss: 'loss' }));
    expect(err.code).toBe('column-twice');
    expect(err.message).toBe('--map: column "loss" is mapped to both train_loss and test_loss; map it to one field');
  });

  it('refuses to guess between two equally good columns', () => {
    const err = importErrorOf(() => resolveMapping(['step', 'Loss', 'loss'], {}, 'e.csv'));
    expect(err.code).toBe('ambiguous-column');
    expect(err.message).toBe('e.csv: columns "Loss", "loss" could both be train_loss; choose one with --map train_loss=COLUMN');
    expect(resolveMapping(['step', 'Loss', 'loss'], { train_loss: 'loss' }).unmapped).toEqual(['Loss']);
  });

  it('needs a step column', () => {
    const err = importErrorOf(() => resolveMapping(['n', 'loss'], {}, 'e.csv'));
    expect(err.code).toBe('no-step-column');
    expect(err.message).toBe('e.csv: no column holds the step (looked for "step", "global_step", "iteration", "epoch"); name it with --map step=COLUMN (columns: "n", "loss")');
  });

  it('needs a train loss column, after mapping', () => {
    const err = importErrorOf(() => resolveMapping(['epoch', 'accuracy', 'val_loss'], {}, 'e.csv'));
    expect(err.code).toBe('no-train-loss-column');
    expect(err.message).toBe(
      'e.csv: no column holds the train loss (looked for "train_loss", "training_loss", "loss"); name it with --map train_loss=COLUMN (columns: "epoch", "accuracy", "val_loss")',
    );
    expect(importErrorOf(() => resolveMapping(['epoch', 'loss'], { train_loss: '' })).code).toBe('no-train-loss-column');
  });
});
