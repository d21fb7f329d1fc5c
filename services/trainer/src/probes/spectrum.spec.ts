import { describe, expect, it } from 'vitest';
import { Rng } from '../random.ts';
import { symmetricEigenvalues } from './eigen.ts';
import { DEFAULT_TOP_K, summarizeGram, summarizeSpectrum } from './spectrum.ts';

describe('summarizeSpectrum', () => {
  it('computes every field from a known spectrum', () => {
    const s = summarizeSpectrum([1, 4, 0, 2, 1e-9], { topK: 3 });
    expect(s.trace).toBeCloseTo(7 + 1e-9, 14);
    expect(s.frobenius).toBeCloseTo(Math.sqrt(16 + 4 + 1), 14);
    expect(s.spectral).toBe(4);
    expect(s.top_eigs).toEqual([4, 2, 1]);
    // (7)^2 / 21, up to the 1e-9 eigenvalue.
    expect(s.effective_rank).toBeCloseTo(49 / 21, 8);
    // 1e-9 <= 1e-6 * 4 is not counted, so the smallest counted eigenvalue is 1.
    expect(s.numerical_rank).toBe(3);
    expect(s.condition_number).toBe(4);
  });

  it('rank tolerance is relative to the largest eigenvalue', () => {
    const s = summarizeSpectrum([1e6, 2, 0.5], { rankTol: 1e-6 });
    // 0.5 < 1e-6 * 1e6 = 1, 2 > 1.
    expect(s.numerical_rank).toBe(2);
    expect(s.condition_number).toBe(5e5);
  });

  it('equal eigenvalues give effective rank n, condition 1', () => {
    const s = summarizeSpectrum([3, 3, 3, 3]);
    expect(s.effective_rank).toBeCloseTo(4, 14);
    expect(s.numerical_rank).toBe(4);
    expect(s.condition_number).toBe(1);
  });

  it('defaults: top 8, fewer when there are fewer eigenvalues; negatives clamped', () => {
    const many = summarizeSpectrum(Array.from({ length: 20 }, (_, i) => i));
    expect(many.top_eigs).toEqual([19, 18, 17, 16, 15, 14, 13, 12]);
    expect(DEFAULT_TOP_K).toBe(8);
    const few = summarizeSpectrum([2, -1e-17, 1]);
    expect(few.top_eigs).toEqual([2, 1, 0]);
    expect(few.trace).toBe(3);
  });

  it('zero matrix: zeros, not NaN or Infinity', () => {
    expect(summarizeSpectrum([0, 0, 0])).toEqual({
      trace: 0,
      frobenius: 0,
      spectral: 0,
      top_eigs: [0, 0, 0],
      effective_rank: 0,
      numerical_rank: 0,
      condition_number: 0,
    });
  });
});

describe('summarizeGram', () => {
  it('matches the spectrum of an explicit GOP (M x M) built from the same vectors', () => {
    // B = 6 vectors in M = 10 dimensions, one a combination of two others (rank 5).
    const rng = new Rng(42);
    const B = 6;
    const M = 10;
    const g = Array.from({ length: B }, () => Array.from({ length: M }, () => rng.normal()));
    g[5] = g[0]!.map((v, m) => 2 * v - g[1]![m]!);
    const gram = new Float64Array(B * B);
    for (let i = 0; i < B; i++)
      for (let j = 0; j < B; j++) gram[i * B + j] = g[i]!.reduce((s, v, m) => s + v * g[j]![m]!, 0) / B;
    const gop = new Float64Array(M * M);
    for (let a = 0; a < M; a++)
      for (let b = 0; b < M; b++) gop[a * M + b] = g.reduce((s, gi) => s + gi[a]! * gi[b]!, 0) / B;

    const fromGram = summarizeGram(gram, B, { topK: 8 });
    const gopEigs = symmetricEigenvalues(gop, M);
    let tr = 0;
    let fr = 0;
    for (let a = 0; a < M; a++) {
      tr += gop[a * M + a]!;
      for (let b = 0; b < M; b++) fr += gop[a * M + b]! ** 2;
    }
    const rel = (x: number, y: number) => Math.abs(x - y) / Math.abs(y);
    expect(rel(fromGram.trace, tr)).toBeLessThan(1e-12);
    expect(rel(fromGram.frobenius, Math.sqrt(fr))).toBeLessThan(1e-12);
    expect(rel(fromGram.spectral, gopEigs[0]!)).toBeLessThan(1e-12);
    // The Gram has B = 6 eigenvalues; GOP's top 6 are the same, the other M - 6 are zero.
    fromGram.top_eigs.forEach((l, i) => expect(Math.abs(l - Math.max(0, gopEigs[i]!))).toBeLessThan(1e-12 * gopEigs[0]!));
    expect(fromGram.numerical_rank).toBe(5);
    const gopSummary = summarizeSpectrum(gopEigs);
    expect(gopSummary.numerical_rank).toBe(5);
    expect(rel(fromGram.effective_rank, gopSummary.effective_rank)).toBeLessThan(1e-12);
    expect(rel(fromGram.condition_number, gopSummary.condition_number)).toBeLessThan(1e-9);
  });
});
