// Doubles that text round trips get wrong, for the stores' bit-exactness tests: the decimal
// that ClickHouse 18.16 parses 1 ulp off, the edges of the format, and random values from
// every binary exponent (seeded, so a failure repeats).

/** The 64 bits of a double, as 16 hex digits (sign first). */
export function doubleBits(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
}

function fromBits(hi: number, lo: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, hi >>> 0);
  view.setUint32(4, lo >>> 0);
  return view.getFloat64(0);
}

/** xorshift32: deterministic, good enough to spread mantissas. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

export const SPECIAL_DOUBLES: readonly number[] = [
  62.47231121694875, // 18.16's toFloat64 and TSV read this 1 ulp off
  0.1,
  0.2,
  0.1 + 0.2,
  1 / 3,
  2 / 3,
  Math.PI,
  Math.E,
  1e23,
  5e-324, // smallest subnormal
  -5e-324,
  2.225073858507201e-308, // largest subnormal
  2.2250738585072014e-308, // smallest normal
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.EPSILON,
  1 + Number.EPSILON,
  2 ** 53 + 2,
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
];

/**
 * The special values, then for every biased exponent 0..2046 (0 = subnormals) a value with a
 * random mantissa of each sign, then random bit patterns: 4,094 + `randomPatterns` + specials.
 */
export function hardDoubles(seed = 20240601, randomPatterns = 1000): number[] {
  const next = prng(seed);
  const out = [...SPECIAL_DOUBLES];
  for (let exponent = 0; exponent <= 2046; exponent++) {
    for (const sign of [0, 1]) {
      const hi = (sign << 31) | (exponent << 20) | (next() & 0xfffff);
      out.push(fromBits(hi, next()));
    }
  }
  for (let i = 0; i < randomPatterns; i++) {
    const x = fromBits(next(), next());
    // Random NaN payloads are not values JS promises to keep; NaN itself is in the specials.
    if (!Number.isNaN(x)) out.push(x);
  }
  return out;
}
