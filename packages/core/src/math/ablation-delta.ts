import { ArgumentError } from '../errors.js';
import { UNIT_ROUNDOFF, nextUp } from './float.js';
import { assertInteger } from './validate.js';

/**
 * log( C(d−ρ, k) / C(d, k) ): the log-probability that k of d locations drawn without replacement miss
 * all ρ perturbed ones (Theorem 1, eq. 12). Computed as a product of min(k, ρ) ratios in log space —
 * never factorials — so it is exact to a few ulps and fast for d = 3·224·224.
 *
 *   C(d−ρ,k)/C(d,k) = Π_{i<k} (d−ρ−i)/(d−i) = Π_{j<ρ} (d−k−j)/(d−j)
 *
 * Returns -Infinity when ρ > d − k (every ablation touches a perturbed location).
 * Also returns an absolute error bound for the computed sum.
 * @category Math
 */
export function logMissProbability(d: number, k: number, rho: number): { value: number; error: number } {
  if (rho === 0) return { value: 0, error: 0 };
  if (rho > d - k) return { value: -Infinity, error: 0 };
  // Use whichever product has fewer factors; each factor is 1 − s/(N) with s fixed.
  const m = Math.min(k, rho);
  const s = m === k ? rho : k;
  let sum = 0;
  for (let j = 0; j < m; j++) {
    const den = d - j;
    const x = s / den;
    // log1p is accurate for small x; for x ≥ ½ the ratio (den−s)/den is formed from exact integers.
    sum += x < 0.5 ? Math.log1p(-x) : Math.log((den - s) / den);
  }
  // Each term carries ≤ 2u(1+|t|) absolute error, the summation ≤ (m−1)u·Σ|t|; double it for margin.
  const error = 4 * UNIT_ROUNDOFF * (m + 2) * (1 + Math.abs(sum));
  return { value: sum, error };
}

/**
 * Δ(ρ) = 1 − C(d−ρ,k)/C(d,k) (Theorem 1, eq. 4), rounded UP: the returned value is ≥ the exact Δ.
 * @category Math
 */
export function ablationDelta(d: number, k: number, rho: number): number {
  assertInteger('d', d, 1);
  assertInteger('retain', k, 1);
  if (k > d) throw new ArgumentError('retain', `k = ${k} exceeds the number of pixel locations d = ${d}`, 'choose retain ≤ d');
  assertInteger('rho', rho, 0);
  if (rho === 0) return 0;
  const { value, error } = logMissProbability(d, k, rho);
  if (value === -Infinity) return 1;
  // Lower the miss probability by the error bound, then by exp's and the subtraction's one ulp each.
  const miss = Math.exp(value - error) * (1 - 2 * UNIT_ROUNDOFF);
  return Math.min(1, nextUp(nextUp(1 - miss)));
}
