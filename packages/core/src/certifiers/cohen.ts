import { largestRadius } from '../math/radius-search.js';
import { clopperPearsonLower } from '../math/statistics.js';
import type { RobustnessBound } from '../perturbations/perturbation.js';
import type { Certificate, Certifier, VoteSampler } from './certifier.js';
import { topClass } from './certifier.js';
import { validateSampling, type SamplingOptions } from './sampling-options.js';

/**
 * CERTIFY of Cohen et al. (2019) with the paper's Corollary 1: n0 samples pick ĉA; n fresh samples give nA;
 * pA_lower is the one-sided (1 − α) Clopper–Pearson lower bound. Abstain when pA_lower ≤ ½; otherwise the
 * radius is the largest ρ with lower(pA_lower, ρ) > ½.
 * Guarantee: with probability ≥ 1 − α, a returned (class, R) means g(x′) = class for all ‖x − x′‖ ≤ R.
 * @category Plug-in authors
 */
export class CohenCertifier implements Certifier {
  readonly type = 'cohen';
  readonly alpha: number;
  readonly n0: number;
  readonly n: number;

  constructor(options: SamplingOptions) {
    validateSampling(options);
    ({ alpha: this.alpha, n0: this.n0, n: this.n } = options);
  }

  /** CERTIFY of Cohen et al.: n0 votes pick ĉA, n votes bound p_A below (Clopper–Pearson, level 1 − α). */
  async certify(sample: VoteSampler, bound: RobustnessBound): Promise<Certificate> {
    const guess = topClass(await sample(this.n0, 'selection'));
    const counts = await sample(this.n, 'estimation');
    const nA = counts[guess]!;
    const pLower = clopperPearsonLower(nA, this.n, this.alpha);
    const base = { unit: bound.unit, pLower, guess, nA, n: this.n, n0: this.n0, alpha: this.alpha, samples: this.n0 + this.n, method: 'cohen (Corollary 1, one-sided Clopper–Pearson)' };
    if (!(pLower > 0.5)) return { ...base, prediction: null, radius: null };
    const radius = largestRadius((rho) => bound.lower(pLower, rho) > 0.5, bound.maxRadius, bound.domain);
    return { ...base, prediction: guess, radius };
  }
}
