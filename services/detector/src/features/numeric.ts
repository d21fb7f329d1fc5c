// Small numeric helpers for bocpd (not operators, not re-exported).

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; relative error ~1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** ln Σ exp(xs[i]) for i < n, without overflow. */
export function logSumExp(xs: ArrayLike<number>, n = xs.length): number {
  let m = -Infinity;
  for (let i = 0; i < n; i++) m = Math.max(m, xs[i]!);
  if (m === -Infinity) return m;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(xs[i]! - m);
  return m + Math.log(s);
}

/** ln of the Student-t density with `nu` degrees of freedom, location `mu`, squared scale `scale2`. */
export function logStudentT(x: number, nu: number, mu: number, scale2: number): number {
  const z = x - mu;
  return (
    logGamma((nu + 1) / 2) -
    logGamma(nu / 2) -
    0.5 * Math.log(nu * Math.PI * scale2) -
    ((nu + 1) / 2) * Math.log1p((z * z) / (nu * scale2))
  );
}
