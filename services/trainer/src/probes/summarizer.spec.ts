// Both summarizers keep one contract: the results of summarizeGrams, in the order the work was
// submitted, a failure of the arithmetic thrown by take(), and nothing to take without work.
// The worker is a real thread (loaded through tsx, as in a run).
import { afterAll, describe, expect, it } from 'vitest';
import { InlineSummarizer, WorkerSummarizer, type GramSummarizer } from './summarizer.ts';
import { summarizeGrams, type GramWork } from './summaries.ts';

/** Work for B samples through one dense layer (nIn -> nOut) and one other parameter of n values. */
function work(seed: number, B = 12, nIn = 7, nOut = 5, n = 4): GramWork {
  let s = seed;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const fill = (k: number) => Float32Array.from({ length: k }, rand);
  return {
    batchSize: B,
    layers: [{ scope: 'dense', batchSize: B, rowsPerSample: 1, bias: true, nIn, nOut, inputs: fill(B * nIn), deltas: fill(B * nOut) }],
    others: [{ scope: 'scale', batchSize: B, values: fill(B * n) }],
    gop: { topK: 4, rankTol: 1e-6, perLayer: true },
    noise: true,
  };
}

const made: GramSummarizer[] = [];
afterAll(async () => {
  for (const s of made) await s.close();
});

describe.each([
  ['inline', () => new InlineSummarizer()],
  ['worker thread', () => new WorkerSummarizer(20_000)],
])('GramSummarizer: %s', (_name, make) => {
  const summarizer = () => {
    const s = make();
    made.push(s);
    return s;
  };

  it("gives summarizeGrams' results, in the order submitted, with the time the arithmetic took", () => {
    const s = summarizer();
    const works = [work(1), work(2), work(3, 20, 9, 3, 2)];
    for (const w of works) s.submit(w);
    for (const w of works) {
      const { results, ms } = s.take();
      expect(results).toEqual(summarizeGrams(w));
      expect(results.gop.map((g) => g.scope)).toEqual(['model', 'dense', 'scale']);
      expect(ms).toBeGreaterThanOrEqual(0);
    }
  }, 30_000);

  it('takes work submitted after earlier takes, one at a time', () => {
    const s = summarizer();
    for (let k = 0; k < 5; k++) {
      s.submit(work(10 + k));
      expect(s.take().results).toEqual(summarizeGrams(work(10 + k)));
    }
  }, 30_000);

  it('throws from take() when the arithmetic fails, and goes on with the next work', () => {
    const s = summarizer();
    const bad = work(4);
    bad.layers[0]!.deltas = new Float32Array(3); // rows that do not match the layer
    s.submit(bad);
    s.submit(work(5));
    expect(() => s.take()).toThrow(/gram of dense: expected 12 rows of 7 inputs and 5 deltas, got 84 input and 3 delta values/);
    expect(s.take().results).toEqual(summarizeGrams(work(5)));
  }, 30_000);

  it('refuses take() with no work submitted', () => {
    expect(() => summarizer().take()).toThrow(/without work submitted/);
  });
});

describe('WorkerSummarizer', () => {
  it('after close(), take() says the thread has exited instead of waiting', async () => {
    const s = new WorkerSummarizer(20_000);
    s.submit(work(6));
    expect(s.take().results).toEqual(summarizeGrams(work(6)));
    s.submit(work(7));
    await s.close();
    expect(() => s.take()).toThrow(/exited|closed/);
  }, 30_000);
});
