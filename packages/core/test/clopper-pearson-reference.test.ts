import { describe, expect, it } from 'vitest';
import { ArgumentError, clopperPearsonLower, clopperPearsonUpper, CohenCertifier, LecuyerCertifier, MIN_ALPHA, MIN_BOUND_LEVEL, type RobustnessBound } from '../src/index.js';
import { binomialTail, exactLower } from './reference/binomial-tail.js';

/**
 * Clopper–Pearson bounds against an arbitrary-precision reference (decimal.js, independent of @stdlib) over a
 * grid of (k, n, α) down to the smallest accepted level. Conservative: P(X ≥ k; n, L) ≤ α for the lower bound
 * and P(X ≤ k; n, U) ≤ α for the upper. Tight: moving the bound inward by 1e-9 · max(p, 1 − p) breaks that.
 */
const counts: [number, number][] = [
  [1, 1], [1, 10], [5, 10], [10, 10], [0, 100], [1, 100], [50, 100], [99, 100], [500, 1000], [1962, 2000],
  [0, 10_000], [9_990, 10_000], [10_000, 10_000], [20, 100_000], [99_990, 100_000], [999_999, 1_000_000], [999_999_997, 1_000_000_000],
];
const alphas = [0.9, 0.5, 0.05, 1e-3, 1e-5, 1e-10, 3e-13, 1e-16, 1e-20, 1e-37, 1e-50, 7e-77, MIN_ALPHA, 1e-123, MIN_BOUND_LEVEL];

describe('Clopper–Pearson against an arbitrary-precision reference', () => {
  it('the lower bound is conservative and within 1e-9 of exact for every accepted α', () => {
    for (const [k, n] of counts) {
      for (const a of alphas) {
        const L = clopperPearsonLower(k, n, a);
        const where = `k=${k} n=${n} α=${a} L=${L}`;
        if (k === 0) {
          expect(L, where).toBe(0);
          continue;
        }
        expect(binomialTail(n, k, L).lte(a), `not conservative: ${where}`).toBe(true);
        expect(binomialTail(n, k, L + 1e-9 * Math.max(L, 1 - L)).gt(a), `loose: ${where}`).toBe(true);
      }
    }
  });

  it('the upper bound is conservative and within 1e-9 of exact for every accepted α (also below 1e-16, where 1 − α = 1)', () => {
    for (const [k, n] of counts) {
      for (const a of alphas) {
        const U = clopperPearsonUpper(k, n, a);
        const where = `k=${k} n=${n} α=${a} U=${U}`;
        if (k === n) {
          expect(U, where).toBe(1);
          continue;
        }
        // (U may round to 1 when the exact bound is within half an ulp of it, e.g. k = 1, n = 10, α = 1e-150)
        expect(binomialTail(n, k, U, true).lte(a), `not conservative: ${where}`).toBe(true);
        expect(binomialTail(n, k, U - 1e-9 * Math.max(U, 1 - U), true).gt(a), `loose: ${where}`).toBe(true);
      }
    }
  });

  it('the issue’s case: k = 1962, n = 2000 has exact lower bound 0.65701 at α = 1e-295; below the floor α is refused', () => {
    expect(exactLower(1962, 2000, 1e-295).toSignificantDigits(5).toNumber()).toBe(0.65701);
    expect(() => clopperPearsonLower(1962, 2000, 1e-295)).toThrow(ArgumentError);
    expect(() => clopperPearsonLower(1962, 2000, 1e-295)).toThrow(/alpha: must be ≥ 1e-150/);
    expect(() => clopperPearsonUpper(1962, 2000, 1e-295)).toThrow(/alpha/);
    // the reference bisection agrees with the bound where both apply
    const L = clopperPearsonLower(1962, 2000, 1e-100);
    const exact = exactLower(1962, 2000, 1e-100).toNumber();
    expect(L).toBeLessThanOrEqual(exact);
    expect(exact - L).toBeLessThan(1e-11);
  });

  it('certifiers refuse α below MIN_ALPHA, naming alpha; Lecuyer also refuses α/c below the bound floor', () => {
    expect(() => new CohenCertifier({ alpha: 1e-295, n0: 10, n: 100 })).toThrow(/alpha: must be ≥ 1e-100, got 1e-295/);
    expect(() => new CohenCertifier({ alpha: MIN_ALPHA, n0: 10, n: 100 })).not.toThrow();
    expect(() => new LecuyerCertifier({ alpha: MIN_ALPHA, n0: 10, n: 100 }, 1e51)).toThrow(/alpha: α\/c/);
  });

  it('Lecuyer’s Bonferroni bounds at α/c are conservative at the smallest α (checked with the reference)', async () => {
    const c = 10;
    const certifier = new LecuyerCertifier({ alpha: MIN_ALPHA, n0: 100, n: 2000 }, c);
    const votes = new Uint32Array(c);
    votes[3] = 1962;
    votes[7] = 30;
    votes[1] = 8;
    const bound: RobustnessBound = { threatModel: 'l0-locations', unit: 'pixels', domain: 'integer', maxRadius: 0, lower: (p) => p, upper: (p) => p };
    const cert = await certifier.certify(async (num) => (num === 100 ? Uint32Array.from([0, 0, 0, 100, 0, 0, 0, 0, 0, 0]) : votes), bound);
    const level = MIN_ALPHA / c;
    expect(cert.guess).toBe(3);
    expect(binomialTail(2000, 1962, cert.pLower).lte(level)).toBe(true);
    expect(binomialTail(2000, 30, cert.pUpper!, true).lte(level)).toBe(true);
    expect(binomialTail(2000, 30, cert.pUpper! * (1 - 1e-9), true).gt(level)).toBe(true);
  });
});
