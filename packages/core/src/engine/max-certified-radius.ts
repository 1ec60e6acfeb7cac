import { ArgumentError } from '../errors.js';
import { largestRadius } from '../math/radius-search.js';
import { assertClosedInterval } from '../math/validate.js';
import type { Perturbation, RobustnessBound } from '../perturbations/perturbation.js';
import type { Shape } from '../shape.js';

/** Which bound: a perturbation with the input shape, or a bound directly (e.g. `ablationBound(784, 45)`). @category Math */
export type BoundSource = { perturbation: Perturbation; shape: Shape } | { bound: RobustnessBound };

/** What `maxCertifiedRadius` needs: a bound (or its perturbation and shape) and the probability bounds. @category Math */
export type RadiusQuery = BoundSource & {
  /** A lower bound on the top class probability p_A. */
  pLower: number;
  /** An upper bound on the runner-up probability p_B: when given, uses Corollary 2 (lower > upper); otherwise
   *  Corollary 1 (lower > ½). */
  pUpper?: number;
};

/**
 * The certificate calculator: the largest radius certified for given probability bounds, or null when even
 * ρ = 0 is not certified. Use it to plan k before training: e.g. with p_A ≥ 0.9997 on MNIST, k = 45 gives 11.
 *
 * @example
 * maxCertifiedRadius({ bound: ablationBound(784, 45), pLower: 0.9997 }); // 11 pixels (Corollary 1)
 * maxCertifiedRadius({ bound: gaussianBound(0.5), pLower: 0.99 });       // σ·Φ⁻¹(0.99) ≈ 1.163 (L2)
 * @category Math
 */
export function maxCertifiedRadius(query: RadiusQuery): number | null {
  const { pLower, pUpper } = query;
  const bound = 'bound' in query ? query.bound : query.perturbation.bound(query.shape);
  assertClosedInterval('pLower', pLower, 0, 1);
  if (pUpper !== undefined) {
    assertClosedInterval('pUpper', pUpper, 0, 1);
    if (pUpper > 1 - pLower + 1e-12) throw new ArgumentError('pUpper', `pLower + pUpper = ${pLower + pUpper} exceeds 1`, 'p_A and p_B are probabilities of disjoint events');
  }
  const holds = pUpper === undefined ? (rho: number) => bound.lower(pLower, rho) > 0.5 : (rho: number) => bound.lower(pLower, rho) > bound.upper(pUpper, rho);
  const r = largestRadius(holds, bound.maxRadius, bound.domain);
  return r < 0 ? null : r;
}
