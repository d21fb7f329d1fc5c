import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { kafkaClientLog } from './connect.ts';

describe('kafkaClientLog', () => {
  it('writes a repeated client line once per quiet period, counting what it held back, errors as warnings', () => {
    const lines: string[] = [];
    let t = 0;
    const log = kafkaClientLog(createLogger('warn', (l) => lines.push(l)), 1000, () => t);
    for (let i = 0; i < 50; i++) {
      log('error', `kafka error [Connection] Connection error: connect ECONNREFUSED (retryCount ${i})`);
      t += 10;
    }
    log('info', 'kafka info [Consumer] Starting'); // below the logger's level
    t += 1000;
    log('error', 'kafka error [Connection] Connection error: connect ECONNREFUSED (retryCount 99)');
    expect(lines).toEqual([
      'kafka error [Connection] Connection error: connect ECONNREFUSED (retryCount 0)',
      'kafka error [Connection] Connection error: connect ECONNREFUSED (retryCount 99) (49 more like it held back)',
    ]);
  });
});
