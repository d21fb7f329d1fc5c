import { describe, expect, it } from 'vitest';
import * as features from './index.ts';

describe('features/index', () => {
  it('re-exports every operator', () => {
    for (const name of ['ema', 'windowMean', 'slope', 'curvature', 'bestSoFar', 'pageHinkley', 'cusum', 'bocpd', 'uShapeFit', 'isFiniteSample']) {
      expect(typeof (features as Record<string, unknown>)[name]).toBe('function');
    }
  });
});
