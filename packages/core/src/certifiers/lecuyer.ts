import { largestRadius } from '../math/radius-search.js';
import { clopperPearsonLower, clopperPearsonUpper } from '../math/statistics.js';
import type { RobustnessBound } from '../perturbations/perturbation.js';
import type { Certificate, Certifier, VoteSampler } from './certifier.js';
import { topClass } from './certifier.js';
import { validateSampling, type SamplingOptions } from './sampling-options.js';
import { ArgumentError } from '../errors.js';
import { nextUp } from '../math/float.js';
import { MIN_BOUND_LEVEL } from '../limits.js';

/**
 * The paper's Corollary 2 (after Lecuyer et al. 2019): certify ρ when lower(pA_lower, ρ) > upper(pB_upper, ρ),
 * where pA_lower bounds the top class from below and pB_upper bounds every other class from above.
 * The c bounds must hold simultaneously: each is a one-sided Clopper–Pearson bound at level α/c
 * (Bonferroni), so all hold together with probability ≥ 1 − α. pB_upper is also capped by 1 − pA_lower,
 * which holds on the same event.
 * @category Plug-in authors
 */
export class LecuyerCertifier implements Certifier {
  readonly type = 'lecuyer';
  readonly alpha: number;
  readonly n0: number;
  readonly n: number;

  constructor(options: SamplingOptions, private readonly numClasses: number) {
    validateSampling(options);
    ({ alpha: this.alpha, n0: this.n0, n: this.n } = options);
    if (!Number.isInteger(numClasses) || numClasses < 2) throw new ArgumentError('numClasses', `must be an integer ≥ 2, got ${numClasses}`);
    if (this.alpha / numClasses < MIN_BOUND_LEVEL) {
      throw new ArgumentError('alpha', `α/c = ${this.alpha}/${numClasses} is below ${MIN_BOUND_LEVEL}, the smallest level of a Clopper–Pearson bound`, 'use a larger alpha');
    }
  }

  /** Corollary 2: certifies while lower(pA, ρ) > upper(pB, ρ), bounds simultaneous over the classes. */
  async certify(sample: VoteSampler, bound: RobustnessBound): Promise<Certificate> {
    const guess = topClass(await sample(this.n0, 'selection'));
    const counts = await sample(this.n, 'estimation');
    const c = Math.max(this.numClasses, counts.length);
    const level = this.alpha / c;
    const nA = counts[guess]!;
    const pLower = clopperPearsonLower(nA, this.n, level);
    let pUpper = 0;
    for (let j = 0; j < c; j++) {
      if (j === guess) continue;
      pUpper = Math.max(pUpper, clopperPearsonUpper(counts[j] ?? 0, this.n, level));
    }
    pUpper = Math.min(pUpper, nextUp(1 - pLower));
    const base = {
      unit: bound.unit,
      pLower,
      pUpper,
      guess,
      nA,
      n: this.n,
      n0: this.n0,
      alpha: this.alpha,
      samples: this.n0 + this.n,
      method: `lecuyer (Corollary 2, Clopper–Pearson bounds simultaneous over ${c} classes by Bonferroni: α/${c} each)`,
    };
    const holds = (rho: number) => bound.lower(pLower, rho) > bound.upper(pUpper, rho);
    if (!holds(0)) return { ...base, prediction: null, radius: null };
    return { ...base, prediction: guess, radius: largestRadius(holds, bound.maxRadius, bound.domain) };
  }
}
