import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventLogWriter, readEventLog } from './event-log.ts';
import { exampleStepMetrics } from './examples.ts';
import type { AnyEvent } from './codec.ts';

const dir = mkdtempSync(join(tmpdir(), 'grokstream-log-'));

describe('event log file', () => {
  it('round-trips mixed events, non-finite values included, in order', async () => {
    const events: AnyEvent[] = [
      { name: 'StepMetrics', value: exampleStepMetrics({ run_id: 'r', step: 1, train_loss: NaN, test_loss: Infinity }) },
      {
        name: 'RunFinished',
        value: { event_id: 'e', run_id: 'r', seq: 2, ts: 3, step: 1, reason: 'completed', command_id: null, error: null, summary: { x: -Infinity } },
      },
      { name: 'StepMetrics', value: exampleStepMetrics({ run_id: 'r', step: 2 }) },
    ];
    const w = new EventLogWriter(join(dir, 'a.avro'));
    w.append(events.slice(0, 2));
    w.append(events.slice(2));
    await w.close();
    expect(await readEventLog(join(dir, 'a.avro'))).toEqual(events);
  });

  it('has every event on disk once close() resolves, for many blocks', async () => {
    const w = new EventLogWriter(join(dir, 'big.avro'));
    const many: AnyEvent[] = Array.from({ length: 5000 }, (_, i) => ({ name: 'StepMetrics', value: exampleStepMetrics({ run_id: 'r', step: i }) }));
    for (let i = 0; i < many.length; i += 500) w.append(many.slice(i, i + 500));
    await w.close();
    const back = await readEventLog(join(dir, 'big.avro'));
    expect(back).toHaveLength(5000);
    expect(back.at(-1)).toEqual(many.at(-1));
  });

  it('says so when a file is not an event log', async () => {
    writeFileSync(join(dir, 'x.avro'), 'hello');
    await expect(readEventLog(join(dir, 'x.avro'))).rejects.toThrow(/not an Avro object container file/);
  });
});
