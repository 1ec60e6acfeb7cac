import betaQuantile from '@stdlib/stats-base-dists-beta-quantile';
import binomialTest from '@stdlib/stats-binomial-test';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { assertInteger, assertOpenInterval } from './validate.js';
import { ArgumentError } from '../errors.js';
import { clamp01, nextDown, nextUp } from './float.js';

/**
 * Relative guard applied to the beta quantile. @stdlib's inverse incomplete beta is accurate to about 1e-14
 * relative on the ranges we use (checked against the closed form α^(1/n) in the tests); we widen every
 * Clopper–Pearson bound by 1e-12 relative so that its rounding can never shrink the interval.
 */
const QUANTILE_GUARD = 1e-12;

function checkCounts(successes: number, trials: number, alpha: number): void {
  assertInteger('n', trials, 1);
  assertInteger('nA', successes, 0, trials);
  assertOpenInterval('alpha', alpha, 0, 1);
}

/**
 * One-sided Clopper–Pearson lower confidence bound: with probability ≥ 1 − α over the draw of
 * `successes` ~ Bin(trials, p), the returned value is ≤ p. (Cohen et al. 2019, LOWERCONFBOUND.)
 * Equals the α quantile of Beta(nA, n − nA + 1); rounded down.
 */
export function clopperPearsonLower(successes: number, trials: number, alpha: number): number {
  checkCounts(successes, trials, alpha);
  if (successes === 0) return 0;
  const q = betaQuantile(alpha, successes, trials - successes + 1);
  return clamp01(nextDown(q * (1 - QUANTILE_GUARD)));
}

/**
 * One-sided Clopper–Pearson upper confidence bound: with probability ≥ 1 − α the returned value is ≥ p.
 * Equals the 1 − α quantile of Beta(nA + 1, n − nA); rounded up.
 */
export function clopperPearsonUpper(successes: number, trials: number, alpha: number): number {
  checkCounts(successes, trials, alpha);
  if (successes === trials) return 1;
  const q = betaQuantile(1 - alpha, successes + 1, trials - successes);
  return clamp01(nextUp(q * (1 + QUANTILE_GUARD)));
}

/**
 * Two-sided exact binomial test of H0: p = ½ for `successes` out of `trials` (Cohen et al.'s PREDICT).
 * Returns the p-value.
 */
export function binomialTestPValue(successes: number, trials: number): number {
  assertInteger('trials', trials, 0);
  assertInteger('successes', successes, 0, trials);
  if (trials === 0) return 1;
  return binomialTest(successes, trials, { p: 0.5, alternative: 'two-sided' }).pValue;
}

/** Standard normal CDF Φ. */
export function phi(x: number): number {
  return normalCdf(x, 0, 1);
}

/** Standard normal quantile Φ⁻¹, for p ∈ [0, 1]. */
export function phiInverse(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new ArgumentError('p', `must be in [0, 1], got ${p}`);
  return normalQuantile(p, 0, 1);
}
