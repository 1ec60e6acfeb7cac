import { describe, expect, it } from 'vitest';
import { binomialTestPValue, clopperPearsonLower, clopperPearsonUpper, predictFromCounts } from '../src/index.js';

describe('Clopper–Pearson bounds', () => {
  it('matches known values', () => {
    expect(clopperPearsonLower(10_000, 10_000, 0.05)).toBeCloseTo(0.99970047, 8);
    expect(clopperPearsonLower(9_990, 10_000, 0.05)).toBeCloseTo(0.99830437, 8);
  });

  it('nA = n has the closed form α^(1/n), and we never round above it', () => {
    for (const [n, alpha] of [
      [100, 0.05],
      [10_000, 0.05],
      [100_000, 0.001],
    ] as const) {
      const exact = alpha ** (1 / n);
      const got = clopperPearsonLower(n, n, alpha);
      expect(got).toBeLessThanOrEqual(exact);
      expect(exact - got).toBeLessThan(1e-11);
    }
  });

  it('nA = 0 has the closed form 1 − α^(1/n) for the upper bound', () => {
    const exact = 1 - 0.05 ** (1 / 1000);
    const got = clopperPearsonUpper(0, 1000, 0.05);
    expect(got).toBeGreaterThanOrEqual(exact);
    expect(got - exact).toBeLessThan(1e-12);
  });

  it('the lower bound solves P(Bin(n, p) ≥ nA) = α', () => {
    // independent check with a log-space binomial tail
    const n = 500;
    const nA = 430;
    const alpha = 0.01;
    const pL = clopperPearsonLower(nA, n, alpha);
    const lf = [0];
    for (let i = 1; i <= n; i++) lf.push(lf[i - 1]! + Math.log(i));
    let tail = 0;
    for (let j = nA; j <= n; j++) tail += Math.exp(lf[n]! - lf[j]! - lf[n - j]! + j * Math.log(pL) + (n - j) * Math.log1p(-pL));
    expect(tail).toBeCloseTo(alpha, 9);
    expect(tail).toBeLessThanOrEqual(alpha);
  });

  it('binomial test p-values (two-sided, p = ½)', () => {
    expect(binomialTestPValue(5, 10)).toBeCloseTo(1, 12);
    // P(X ≤ 1 or X ≥ 9), X ~ Bin(10, ½) = 22/1024
    expect(binomialTestPValue(9, 10)).toBeCloseTo(22 / 1024, 12);
    expect(binomialTestPValue(0, 0)).toBe(1);
  });

  it('PREDICT abstains on a close vote and answers on a clear one', () => {
    expect(predictFromCounts([48, 52, 0], 100, 0.05).prediction).toBeNull();
    const clear = predictFromCounts([3, 90, 7], 100, 0.05);
    expect(clear.prediction).toBe(1);
    expect(clear.nA).toBe(90);
    expect(clear.nB).toBe(7);
  });
});
