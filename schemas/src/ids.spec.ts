import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { deterministicId } from './ids.ts';

describe('deterministicId', () => {
  it('is a version-5-shaped UUID, the same for the same parts and different otherwise', () => {
    const id = deterministicId('run-1', 'det', '1', 'converged', 950);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deterministicId('run-1', 'det', '1', 'converged', 950)).toBe(id);
    expect(deterministicId('run-1', 'det', '1', 'converged', 951)).not.toBe(id);
    // Parts are separated, so ('ab', 'c') and ('a', 'bc') differ.
    expect(deterministicId('ab', 'c')).not.toBe(deterministicId('a', 'bc'));
  });

  it('is SHA-256 of the NUL-joined parts with the UUID version and variant bits set', () => {
    const h = createHash('sha256').update('x\u0000y').digest('hex');
    const expected = `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
    expect(deterministicId('x', 'y')).toBe(expected);
  });
});
