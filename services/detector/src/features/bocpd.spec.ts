import { describe, expect, it } from 'vitest';
import { bocpd, type BocpdOptions, type BocpdOutput } from './bocpd.ts';
import { collect, gaussian, newScheduler, s } from './testing.ts';
import type { Sample } from '../views.ts';

/** Γ(x) for integers and half-integers >= 0.5, exactly by recursion. */
function gamma(x: number): number {
  if (x === 1) return 1;
  if (x === 0.5) return Math.sqrt(Math.PI);
  return (x - 1) * gamma(x - 1);
}

/**
 * Independent reference: probability space, full arrays, predictive as a ratio of Normal-Gamma
 * evidences p(x | m,k,a,b) = Γ(a+½)/Γ(a) · bᵃ / b'^(a+½) · √(k/(k+1)) / √(2π). Needs alpha0 = 1.
 */
function reference(xs: Sample[], o: BocpdOptions): BocpdOutput[] {
  type H = { p: number; m: number; k: number; a: number; b: number };
  const post = (h: Omit<H, 'p'>, x: number) => ({
    m: (h.k * h.m + x) / (h.k + 1),
    k: h.k + 1,
    a: h.a + 0.5,
    b: h.b + (h.k * (x - h.m) ** 2) / (2 * (h.k + 1)),
  });
  const pred = (h: Omit<H, 'p'>, x: number) => {
    const b1 = post(h, x).b;
    return ((gamma(h.a + 0.5) / gamma(h.a)) * h.b ** h.a) / b1 ** (h.a + 0.5) * Math.sqrt(h.k / (h.k + 1)) / Math.sqrt(2 * Math.PI);
  };
  const prior = { m: o.mu0, k: o.kappa0, a: o.alpha0, b: o.beta0 };
  let hyps: H[] = [];
  const out: BocpdOutput[] = [];
  for (const { step, value: x } of xs) {
    if (!Number.isFinite(x)) continue;
    if (hyps.length === 0) {
      hyps = [{ p: 1, ...post(prior, x) }];
      out.push({ step, mapRunLength: 0, changeProbability: 0 });
      continue;
    }
    hyps = [{ p: o.hazard * pred(prior, x), ...post(prior, x) }, ...hyps.map((h) => ({ p: h.p * (1 - o.hazard) * pred(h, x), ...post(h, x) }))];
    if (hyps.length > o.maxRunLength + 1) {
      // merge the overflow into the last bin: masses add, the more probable one's statistics stay
      const [last, over] = hyps.slice(o.maxRunLength) as [H, H];
      hyps = [...hyps.slice(0, o.maxRunLength), { ...(over.p > last.p ? over : last), p: last.p + over.p }];
    }
    const z = hyps.reduce((acc, h) => acc + h.p, 0);
    hyps = hyps.map((h) => ({ ...h, p: h.p / z }));
    const map = hyps.reduce((best, h, r) => (h.p > hyps[best]!.p ? r : best), 0);
    out.push({ step, mapRunLength: map, changeProbability: hyps[0]!.p });
  }
  return out;
}

const opts: BocpdOptions = { hazard: 0.01, mu0: 0, kappa0: 1, alpha0: 1, beta0: 0.01, maxRunLength: 500 };

describe('bocpd', () => {
  it('matches an independent probability-space reference (incl. the capped bin, non-finite skip, completion)', () => {
    const o: BocpdOptions = { hazard: 0.2, mu0: 0, kappa0: 1, alpha0: 1, beta0: 1, maxRunLength: 2 };
    const v = { a: s(1, 0.1), b: s(2, -0.2), c: s(3, 0.05), d: s(4, 3), n: s(5, NaN), e: s(6, 3.2), f: s(7, 2.9) };
    const [a, b, c, d, e, f] = reference(Object.values(v), o);
    expect(a).toEqual({ step: 1, mapRunLength: 0, changeProbability: 0 });
    expect(d!.mapRunLength).toBe(0); // the jump starts a segment
    expect(f!.mapRunLength).toBe(2);
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('abcdnef|', v).pipe(bocpd(o))).toBe('abcd-ef|', { a, b, c, d, e, f });
    });
  });

  it('propagates errors', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a#', { a: s(1, 0) }).pipe(bocpd(opts))).toBe('a#', { a: { step: 1, mapRunLength: 0, changeProbability: 0 } });
    });
  });

  it('a mean shift drops the MAP run length to ~0 within a few steps, with a high change probability', () => {
    const z = gaussian(5);
    const xs = Array.from({ length: 200 }, (_, i) => s(i * 10, (i < 100 ? 0 : 1) + 0.1 * z()));
    const out = collect(xs, bocpd(opts));
    expect(out).toHaveLength(200);
    const at = out.findIndex((o) => o.changeProbability > 0.8);
    expect(at).toBeGreaterThanOrEqual(100);
    expect(at).toBeLessThanOrEqual(102);
    for (let i = 100; i < 104; i++) expect(out[i]!.mapRunLength).toBeLessThanOrEqual(i - 100);
    // before the shift, no sample looks like a change; after it, the run grows again
    expect(Math.max(...out.slice(1, 100).map((o) => o.changeProbability))).toBeLessThan(0.5);
    expect(out[199]!.mapRunLength).toBe(99);
  });

  it('on a flat noisy series the MAP run length keeps growing', () => {
    const z = gaussian(9);
    const xs = Array.from({ length: 300 }, (_, i) => s(i, 0.5 + 0.1 * z()));
    const out = collect(xs, bocpd(opts));
    expect(out.map((o) => o.mapRunLength)).toEqual(out.map((_, i) => i));
    expect(Math.max(...out.map((o) => o.changeProbability))).toBeLessThan(0.5);
  });

  it('saturates at maxRunLength (bounded state)', () => {
    const z = gaussian(3);
    const xs = Array.from({ length: 100 }, (_, i) => s(i, 0.1 * z()));
    const out = collect(xs, bocpd({ ...opts, maxRunLength: 20 }));
    expect(Math.max(...out.map((o) => o.mapRunLength))).toBe(20);
    expect(out[99]!.mapRunLength).toBe(20);
    expect(out.every((o) => o.changeProbability >= 0 && o.changeProbability <= 1)).toBe(true);
  });

  it('validates its options', () => {
    expect(() => bocpd({ ...opts, hazard: 1 })).toThrow(/bocpd: hazard must be in \(0, 1\)/);
    expect(() => bocpd({ ...opts, kappa0: 0 })).toThrow(/bocpd: kappa0 must be > 0/);
    expect(() => bocpd({ ...opts, beta0: -1 })).toThrow(/beta0/);
    expect(() => bocpd({ ...opts, maxRunLength: 0 })).toThrow(/bocpd: maxRunLength must be an integer >= 1/);
  });
});
