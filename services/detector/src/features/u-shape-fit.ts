// Quadratic fit over a window, for U-shapes: a test loss that dips then climbs (memorization) or
// an accuracy that peaks then decays (anti-grokking). The vertex says where, r2 how U-like.
import type { OperatorFunction } from 'rxjs';
import type { Sample } from '../views.ts';
import { featureOperator, requireInteger, requireNonNegative, SampleWindow } from './internal.ts';
import { fitQuadratic } from './least-squares.ts';

export interface UShapeFit {
  step: number;
  /** value ≈ a·step² + b·step + c, in raw step units (a > 0: U, a < 0: ∩). */
  a: number;
  b: number;
  c: number;
  /** −b / 2a and the fitted value there; null when the fit is (numerically) a line. */
  vertexStep: number | null;
  vertexValue: number | null;
  /** Coefficient of determination in [0, 1]; 1 when the window's values are all equal. */
  r2: number;
}

export interface UShapeFitOptions {
  /**
   * The vertex is null when |a|·spread² ≤ epsilon · max(|b|·spread, rms of the centered values),
   * spread = the largest |step − mean step| (i.e. the curvature moves the fit by a negligible
   * fraction of its other variation across the window). Default 1e-9.
   */
  epsilon?: number;
}

/**
 * Least-squares quadratic over the last `size` finite samples (size >= 3), emitted once the window
 * is full (and its steps are not degenerate). Fitted on centered, scaled steps; the vertex is
 * computed from the centered fit (stable even at large steps). Non-finite samples are skipped.
 */
export function uShapeFit(size: number, options: UShapeFitOptions = {}): OperatorFunction<Sample, UShapeFit> {
  requireInteger('uShapeFit: size', size, 3);
  const epsilon = requireNonNegative('uShapeFit: epsilon', options.epsilon ?? 1e-9);
  return featureOperator(() => {
    const w = new SampleWindow(size);
    return (s) => {
      w.push(s);
      if (!w.full) return undefined;
      const fit = fitQuadratic(w);
      if (!fit) return undefined;
      const { a, b, c, center: t0, ssRes, ssTot } = fit;
      const rms = Math.sqrt(ssTot / size);
      const line = Math.abs(fit.scaled.a) <= epsilon * Math.max(Math.abs(fit.scaled.b), rms);
      const r2 = ssTot > 0 ? Math.min(1, Math.max(0, 1 - ssRes / ssTot)) : 1;
      return {
        step: s.step,
        a,
        b: b - 2 * a * t0,
        c: c - b * t0 + a * t0 * t0,
        vertexStep: line ? null : t0 - b / (2 * a),
        vertexValue: line ? null : c - (b * b) / (4 * a),
        r2,
      };
    };
  });
}
