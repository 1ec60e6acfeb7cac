import betaQuantile from '@stdlib/stats-base-dists-beta-quantile';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { assertInteger, assertOpenInterval } from './validate.js';
import { ArgumentError } from '../errors.js';
import { MIN_BOUND_LEVEL } from '../limits.js';
import { clamp01, nextDown, nextUp } from './float.js';
import { twoSidedBinomialPValue } from './binomial-test.js';

/**
 * Relative guard applied to the beta quantile. @stdlib's inverse incomplete beta is accurate to about 1e-14
 * relative for lower-tail levels α ≥ MIN_BOUND_LEVEL (checked against an arbitrary-precision binomial tail
 * over a grid of (k, n, α) in the tests; it is not below about 1e-250); we widen every Clopper–Pearson bound
 * by 1e-12 relative so that its rounding can never shrink the interval.
 */
const QUANTILE_GUARD = 1e-12;

function checkCounts(successes: number, trials: number, alpha: number): void {
  assertInteger('n', trials, 1);
  assertInteger('nA', successes, 0, trials);
  assertOpenInterval('alpha', alpha, 0, 1);
  if (alpha < MIN_BOUND_LEVEL) {
    throw new ArgumentError('alpha', `must be ≥ ${MIN_BOUND_LEVEL}, got ${alpha}`, 'the bound is only verified conservative down to this level (docs/certificates.md)');
  }
}

/**
 * One-sided Clopper–Pearson lower confidence bound: with probability ≥ 1 − α over the draw of
 * `successes` ~ Bin(trials, p), the returned value is ≤ p. (Cohen et al. 2019, LOWERCONFBOUND.)
 * Equals the α quantile of Beta(nA, n − nA + 1); rounded down.
 * @category Math
 */
export function clopperPearsonLower(successes: number, trials: number, alpha: number): number {
  checkCounts(successes, trials, alpha);
  if (successes === 0) return 0;
  const q = betaQuantile(alpha, successes, trials - successes + 1);
  return clamp01(nextDown(q * (1 - QUANTILE_GUARD)));
}

/**
 * One-sided Clopper–Pearson upper confidence bound: with probability ≥ 1 − α the returned value is ≥ p.
 * Equals the 1 − α quantile of Beta(nA + 1, n − nA) = 1 − (the α quantile of Beta(n − nA, nA + 1)), i.e. one
 * minus the lower bound of the failures. Computed in that second form: 1 − α rounds to 1 for α < 1.1e-16 and
 * loses relative accuracy in α well before, so the direct form is not conservative for small α. Rounded up.
 * @category Math
 */
export function clopperPearsonUpper(successes: number, trials: number, alpha: number): number {
  checkCounts(successes, trials, alpha);
  if (successes === trials) return 1;
  const failures = trials - successes;
  const q = betaQuantile(alpha, failures, successes + 1);
  // q is lowered before 1 − q; nextUp covers the rounding of the subtraction.
  return clamp01(nextUp(1 - nextDown(q * (1 - QUANTILE_GUARD))));
}

/**
 * Two-sided exact binomial test of H0: p = ½ for `successes` out of `trials` (Cohen et al.'s PREDICT).
 * Returns the p-value P(|X − n/2| ≥ |k − n/2|) for X ~ Bin(n, ½), rounded up: never below the exact value, and
 * within 1e-9 relative of it wherever it is ≥ 1e-300 (see `twoSidedBinomialPValue`).
 * @category Math
 */
export function binomialTestPValue(successes: number, trials: number): number {
  assertInteger('trials', trials, 0);
  assertInteger('successes', successes, 0, trials);
  if (trials === 0) return 1;
  return twoSidedBinomialPValue(successes, trials);
}

/** Standard normal CDF Φ. @category Math */
export function phi(x: number): number {
  return normalCdf(x, 0, 1);
}

/** Standard normal quantile Φ⁻¹, for p ∈ [0, 1]. @category Math */
export function phiInverse(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new ArgumentError('p', `must be in [0, 1], got ${p}`);
  return normalQuantile(p, 0, 1);
}
