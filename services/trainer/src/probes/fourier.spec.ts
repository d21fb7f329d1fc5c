import { describe, expect, it } from 'vitest';
import { Rng } from '../random.ts';
import { tf } from '../tf.ts';
import { useTestBackend } from '../testing-backend.ts';
import { fourierEnergies, fourierEnergiesOf, fourierSparsity } from './fourier.ts';

await useTestBackend();
await tf.ready();

/** E[n, c] = dc_c + sum_f A_f (alpha_fc cos(2 pi f n / p) + beta_fc sin(2 pi f n / p)). */
function synthetic(p: number, d: number, freqs: Array<{ k: number; amp: number }>, seed: number, dc = 0) {
  const rng = new Rng(seed);
  const coef = freqs.map(() => Array.from({ length: d }, () => ({ a: rng.normal(), b: rng.normal() })));
  const offsets = Array.from({ length: d }, () => dc * rng.normal());
  const e = new Float64Array(p * d);
  for (let n = 0; n < p; n++)
    for (let c = 0; c < d; c++) {
      let v = offsets[c]!;
      freqs.forEach(({ k, amp }, f) => {
        const th = (2 * Math.PI * k * n) / p;
        v += amp * (coef[f]![c]!.a * Math.cos(th) + coef[f]![c]!.b * Math.sin(th));
      });
      e[n * d + c] = v;
    }
  // Closed form: a column A (a cos + b sin) has |F_k|^2 = |F_{p-k}|^2 = (p A / 2)^2 (a^2 + b^2).
  const expected = freqs.map(({ amp }, f) => coef[f]!.reduce((s, { a, b }) => s + 2 * ((p * amp) / 2) ** 2 * (a * a + b * b), 0));
  return { e, expected };
}

describe('fourierEnergies', () => {
  it('three known frequencies: energy exactly there, nothing elsewhere', () => {
    const p = 59;
    const freqs = [
      { k: 3, amp: 3 },
      { k: 14, amp: 2 },
      { k: 25, amp: 1 },
    ];
    const { e, expected } = synthetic(p, 8, freqs, 1);
    const energies = fourierEnergies(e, p, 8);
    expect(energies.length).toBe(30);
    const total = expected.reduce((s, x) => s + x, 0);
    freqs.forEach(({ k }, f) => expect(Math.abs(energies[k]! - expected[f]!) / expected[f]!).toBeLessThan(1e-10));
    energies.forEach((en, k) => {
      if (!freqs.some((f) => f.k === k)) expect(en).toBeLessThan(1e-20 * total + 1e-18);
    });
  });

  it.each([59, 60])("Parseval: sum of paired energies = p * ||E||_F^2 (p = %i, DC and Nyquist included)", (p) => {
    const rng = new Rng(p);
    const d = 5;
    const e = Float64Array.from({ length: p * d }, () => rng.normal());
    const energies = fourierEnergies(e, p, d);
    const sumSq = e.reduce((s, v) => s + v * v, 0);
    expect(Math.abs(energies.reduce((s, v) => s + v, 0) - p * sumSq) / (p * sumSq)).toBeLessThan(1e-12);
  });

  it('matches a naive complex DFT with k and p - k summed separately', () => {
    const p = 13;
    const d = 3;
    const rng = new Rng(4);
    const e = Float64Array.from({ length: p * d }, () => rng.normal());
    const mag2 = (k: number) => {
      let s = 0;
      for (let c = 0; c < d; c++) {
        let re = 0;
        let im = 0;
        for (let n = 0; n < p; n++) {
          re += e[n * d + c]! * Math.cos((-2 * Math.PI * k * n) / p);
          im += e[n * d + c]! * Math.sin((-2 * Math.PI * k * n) / p);
        }
        s += re * re + im * im;
      }
      return s;
    };
    const energies = fourierEnergies(e, p, d);
    expect(Math.abs(energies[0]! - mag2(0))).toBeLessThan(1e-9);
    for (let k = 1; k <= 6; k++) expect(Math.abs(energies[k]! - (mag2(k) + mag2(p - k))) / energies[k]!).toBeLessThan(1e-10);
  });

  it('rejects a wrong size', () => {
    expect(() => fourierEnergies(new Float64Array(10), 3, 4)).toThrow(/expected 3 x 4/);
  });
});

describe('fourierEnergiesOf (on the backend)', () => {
  it.each([7, 8, 59])('equals the float64 definition on rows [offset, offset + p) of a weight, p = %i', (p) => {
    const rng = new Rng(p);
    const rows = 2 * p + 3;
    const d = 16;
    const offset = p + 1;
    const values = Float32Array.from({ length: rows * d }, () => rng.normal());
    const weight = tf.tensor2d(values, [rows, d]);
    const before = tf.memory().numTensors;
    const got = fourierEnergiesOf(weight, p, offset);
    expect(tf.memory().numTensors).toBe(before);
    const want = fourierEnergies(values.subarray(offset * d, (offset + p) * d), p, d);
    const total = want.reduce((a, b) => a + b, 0);
    expect(got.length).toBe(want.length);
    want.forEach((w, k) => expect(Math.abs(got[k]! - w)).toBeLessThan(1e-5 * total));
    weight.dispose();
  });
});

describe('fourierSparsity', () => {
  const p = 113;
  const freqs = [
    { k: 5, amp: 4 },
    { k: 41, amp: 2 },
    { k: 56, amp: 1 },
  ];

  it('top-K share and key frequencies of a 3-frequency embedding (a DC offset changes nothing)', () => {
    const { e, expected } = synthetic(p, 16, freqs, 2, 5);
    const total = expected.reduce((s, x) => s + x, 0);
    const s = fourierSparsity(e, p, 16);
    expect(s.topKFraction).toBeCloseTo(1, 12);
    expect(s.nonDcEnergy / total).toBeCloseTo(1, 10);
    // Ranked by energy; the count to reach 90% follows from the closed-form energies.
    const order = freqs.map((f, i) => ({ k: f.k, en: expected[i]! })).sort((a, b) => b.en - a.en);
    let acc = 0;
    let count = 0;
    for (const o of order) {
      acc += o.en;
      count++;
      if (acc >= 0.9 * total) break;
    }
    expect(s.keyFrequencyCount).toBe(count);
    expect(s.keyFrequencies).toEqual(order.slice(0, count).map((o) => o.k));
    expect(s.energies[0]).toBeGreaterThan(0);

    const top1 = fourierSparsity(e, p, 16, { topK: 1 });
    expect(top1.topKFraction).toBeCloseTo(order[0]!.en / total, 10);
    const all = fourierSparsity(e, p, 16, { energyFraction: 0.999999 });
    expect(all.keyFrequencyCount).toBe(3);
  });

  it('noise spreads the energy: a random embedding needs most frequencies', () => {
    const rng = new Rng(3);
    const e = Float64Array.from({ length: p * 32 }, () => rng.normal());
    const s = fourierSparsity(e, p, 32);
    expect(s.keyFrequencyCount).toBeGreaterThan(40);
    expect(s.topKFraction).toBeLessThan(0.2);
  });

  it('a constant embedding has no non-DC energy', () => {
    const s = fourierSparsity(new Float64Array(7 * 2).fill(3), 7, 2);
    expect(s).toMatchObject({ nonDcEnergy: 0, topKFraction: 0, keyFrequencyCount: 0, keyFrequencies: [] });
    expect(s.energies[0]).toBeCloseTo(2 * (7 * 3) ** 2, 9);
  });
});
