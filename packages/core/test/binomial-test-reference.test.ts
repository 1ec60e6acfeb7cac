import { describe, expect, it } from 'vitest';
import { binomialTestPValue, MIN_ALPHA, predictFromCounts } from '../src/index.js';
import { nextDown } from '../src/math/float.js';
import { EXACT_MAX_TRIALS } from '../src/math/binomial-test.js';
import { compareExact, decimalPValue, exactPValue, exactToDecimal, PValueDecimal } from './reference/binomial-test.js';

/**
 * PREDICT's two-sided binomial test against arbitrary-precision references (independent of the implementation):
 * exact BigInt sums of binomial coefficients up to n = 3000, an 80-digit decimal sum (Stirling-series factorials)
 * above. The p-value must never be below the exact one (PREDICT would answer where the test abstains) and must be
 * within 1e-9 relative of it wherever it is ≥ 1e-300, i.e. over the whole accepted α range [1e-100, 1) and beyond.
 */

/** Successes k for n whose p-values span 1 … far below 1e-300: k = n/2 + z·√n/2 for z up to 40, and n, n − 1. */
function grid(n: number): number[] {
  const ks = new Set<number>();
  for (const z of [0, 0.3, 1, 2, 3.3, 5, 6.5, 8.2, 8.5, 9, 12, 15, 18, 21.3, 25, 26.5, 30, 37, 40]) ks.add(Math.min(n, Math.ceil(n / 2 + (z * Math.sqrt(n)) / 2)));
  for (const k of [n, n - 1, n - 2, Math.floor(n / 2)]) if (k >= 0) ks.add(k);
  return [...ks].sort((a, b) => a - b);
}

describe('binomialTestPValue (two-sided, p = ½) against an arbitrary-precision reference', () => {
  it('the issue’s cases: nA = 517, nB = 283 gives 1.068e-16 (not half of it); 195 of 198 gives 6.44e-54', () => {
    expect(binomialTestPValue(517, 800).toPrecision(4)).toBe(exactToDecimal(exactPValue(517, 800)).toPrecision(4));
    expect(binomialTestPValue(517, 800).toPrecision(4)).toBe('1.068e-16');
    expect(binomialTestPValue(195, 198).toPrecision(3)).toBe('6.44e-54');
    // 2 + 2·198 + 2·C(198, 2) + 2·C(198, 3) = 2 + 396 + 39 006 + 2 547 192 over 2^198 ... exactly
    const c3 = (198n * 197n * 196n) / 6n;
    expect(exactPValue(195, 198).num).toBe(1n + 198n + (198n * 197n) / 2n + c3);
    expect(compareExact(binomialTestPValue(195, 198), exactPValue(195, 198)).atLeast).toBe(true);
  });

  it('is exact or rounded up, and within 1e-9 of exact, for every n ≤ 3000 of a grid (exact BigInt sums)', () => {
    const ns = [1, 2, 3, 4, 5, 6, 7, 10, 15, 16, 17, 31, 32, 36, 50, 81, 100, 101, 198, 255, 256, 257, 499, 500, 501, 800, 1000, 1075, 1076, 1999, 2000, 3000];
    let checked = 0;
    for (const n of ns) {
      for (const k of grid(n)) {
        for (const kk of [k, n - k]) {
          const p = binomialTestPValue(kk, n);
          const exact = exactPValue(kk, n);
          const cmp = compareExact(p, exact);
          const where = `k=${kk} n=${n} p=${p} exact=${exactToDecimal(exact).toPrecision(6)}`;
          expect(cmp.atLeast, `below exact: ${where}`).toBe(true);
          if (exactToDecimal(exact).gte(1e-300)) expect(cmp.within(1n, 1_000_000_000n), `loose: ${where}`).toBe(true);
          else expect(p, where).toBeLessThan(1e-290);
          // up to EXACT_MAX_TRIALS (256): the exact value rounded up to the nearest double (the one below is below exact)
          if (n <= EXACT_MAX_TRIALS) expect(compareExact(nextDown(p), exact).atLeast, `not the nearest double above: ${where}`).toBe(false);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(600);
  });

  it('is rounded up and within 1e-9 of an 80-digit reference for n from 3000 to 2·10⁹', () => {
    // the 80-digit reference agrees with the exact sums where both apply
    for (const [k, n] of [[1700, 3000], [1900, 3000], [2999, 3000]] as const) {
      const e = exactToDecimal(exactPValue(k, n));
      expect(decimalPValue(k, n).minus(e).abs().lte(e.times(1e-35)), `reference k=${k} n=${n}`).toBe(true);
    }
    for (const n of [3001, 10_000, 100_001, 1_000_000, 123_456_789, 2_000_000_000]) {
      const zs = n > 1e8 ? [6, 37] : [0.2, 1, 3.3, 8.5, 15, 21.3, 26.5, 37];
      for (const z of zs) {
        const k = Math.ceil(n / 2 + (z * Math.sqrt(n)) / 2);
        const p = binomialTestPValue(k, n);
        const exact = decimalPValue(k, n);
        const where = `k=${k} n=${n} p=${p} exact=${exact.toPrecision(6)}`;
        expect(new PValueDecimal(p).gte(exact), `below exact: ${where}`).toBe(true);
        if (exact.gte(1e-300)) expect(new PValueDecimal(p).lte(exact.times(1 + 1e-9)), `loose: ${where}`).toBe(true);
      }
    }
  });

  it('PREDICT abstains exactly when the exact p-value exceeds α, at the smallest accepted α too', () => {
    // find, for n = 800 and n = 2000, the k whose exact p-values straddle α = 1e-16 and α = MIN_ALPHA
    for (const alpha of [0.05, 1e-16, 1e-50, MIN_ALPHA]) {
      for (const n of [800, 2000]) {
        let k = n;
        while (exactToDecimal(exactPValue(k - 1, n)).lte(alpha)) k--;
        if (k === n && exactToDecimal(exactPValue(n, n)).gt(alpha)) continue;
        // k: the fewest votes (of n, two classes) at which the exact test rejects; k − 1 must abstain
        expect(predictFromCounts([k, n - k], n, alpha).prediction, `n=${n} α=${alpha} k=${k}`).toBe(0);
        expect(predictFromCounts([k - 1, n - k + 1], n, alpha).prediction, `n=${n} α=${alpha} k=${k - 1}`).toBeNull();
      }
    }
  });
});
