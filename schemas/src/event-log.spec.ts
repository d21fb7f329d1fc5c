import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventLogError, EventLogWriter, readEventLog } from './event-log.ts';
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

  it('writes deflate-compressed blocks that read back the same, and smaller', async () => {
    const many: AnyEvent[] = Array.from({ length: 2000 }, (_, i) => ({ name: 'StepMetrics', value: exampleStepMetrics({ run_id: 'r', step: i }) }));
    for (const codec of ['null', 'deflate'] as const) {
      const w = new EventLogWriter(join(dir, `${codec}.avro`), { codec });
      w.append(many);
      await w.close();
      expect(await readEventLog(join(dir, `${codec}.avro`))).toEqual(many);
    }
    expect(readFileSync(join(dir, 'deflate.avro')).length).toBeLessThan(readFileSync(join(dir, 'null.avro')).length / 2);
  });

  it('says so when a file is not an event log', async () => {
    writeFileSync(join(dir, 'x.avro'), 'hello');
    await expect(readEventLog(join(dir, 'x.avro'))).rejects.toThrow(/not an Avro object container file/);
  });

  it('names the byte offset of a cut-short file, and --allow-truncated reads its complete blocks', async () => {
    const path = join(dir, 'cut.avro');
    const w = new EventLogWriter(path);
    const many: AnyEvent[] = Array.from({ length: 3000 }, (_, i) => ({ name: 'StepMetrics', value: exampleStepMetrics({ run_id: 'r', step: i }) }));
    for (let i = 0; i < many.length; i += 100) w.append(many.slice(i, i + 100));
    await w.close();
    const whole = readFileSync(path);
    const cutPath = join(dir, 'cut-short.avro');
    writeFileSync(cutPath, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const err = await readEventLog(cutPath).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EventLogError);
    const e = err as EventLogError;
    expect(e.truncated).toBe(true);
    expect(e.message).toMatch(new RegExp(`cut short at byte ${e.byteOffset} of ${Math.floor(whole.length * 0.6)}`));
    let seen: { events: number } | undefined;
    const part = await readEventLog(cutPath, { allowTruncated: true, onTruncated: (t) => (seen = t) });
    expect(part.length).toBeGreaterThan(0);
    expect(part.length).toBeLessThan(3000);
    expect(part).toEqual(many.slice(0, part.length));
    expect(seen?.events).toBe(part.length);
    // Every cut point, including inside the header, is an error, never a quiet empty result.
    for (const n of [5, 20, 200, whole.length - 1]) {
      writeFileSync(cutPath, whole.subarray(0, n));
      await expect(readEventLog(cutPath)).rejects.toBeInstanceOf(EventLogError);
    }
  });

  it('reports a corrupted block instead of returning wrong events', async () => {
    const path = join(dir, 'bad.avro');
    const w = new EventLogWriter(path);
    w.append(Array.from({ length: 50 }, (_, i) => ({ name: 'StepMetrics' as const, value: exampleStepMetrics({ run_id: 'r', step: i }) })));
    await w.close();
    const bytes = Buffer.from(readFileSync(path));
    bytes[bytes.length - 3]! ^= 0xff; // inside the final sync marker
    writeFileSync(path, bytes);
    await expect(readEventLog(path)).rejects.toThrow(/corrupt block at byte \d+ \(sync marker mismatch\)/);
  });

  it('fails at once, naming the path, when the file cannot be created', () => {
    expect(() => new EventLogWriter(join(dir, 'no-such-dir', 'x.avro'))).toThrow(/cannot write the event log .*no-such-dir.*ENOENT/);
  });
});
