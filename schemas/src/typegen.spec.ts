import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateTypes } from './typegen.ts';
import { SCHEMAS_DIR, loadCurrentSchemas } from './catalog.ts';

describe('generated event types', () => {
  it('are up to date with the .avsc files (run `pnpm --filter @grokstream/schemas typegen`)', () => {
    const onDisk = readFileSync(join(SCHEMAS_DIR, 'src', 'events.generated.ts'), 'utf8');
    expect(onDisk).toBe(generateTypes(loadCurrentSchemas()));
  });

  it('map Avro types to TypeScript', () => {
    const out = generateTypes([
      {
        file: 'x.avsc',
        schema: {
          type: 'record',
          name: 'ns.X',
          fields: [
            { name: 'a', type: ['null', 'long'] },
            { name: 'b', type: { type: 'array', items: 'double' } },
            { name: 'c', type: { type: 'map', values: 'string' } },
            { name: 'd', type: { type: 'enum', name: 'E', symbols: ['P', 'Q'] } },
            { name: 'e', type: 'bytes' },
            { name: 'f', type: 'E' },
          ],
        },
      },
    ]);
    expect(out).toContain("export type E = 'P' | 'Q';");
    expect(out).toContain('  a: null | number;');
    expect(out).toContain('  b: Array<number>;');
    expect(out).toContain('  c: Record<string, string>;');
    expect(out).toContain('  e: Buffer;');
    expect(out).toContain('  f: E;');
  });
});
