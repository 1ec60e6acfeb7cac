import { ArgumentError } from '../errors.js';
import { largestRadius } from '../math/radius-search.js';
import type { RobustnessBound } from '../perturbations/perturbation.js';
import type { Certificate, Certifier, VoteSampler } from './certifier.js';
import { topClass } from './certifier.js';

/** The top class A (lowest index on ties) and the runner-up B: the lowest-index class of largest count among c ≠ A. @category Math */
export function topTwo(counts: ArrayLike<number>): { a: number; b: number | null } {
  const a = topClass(counts);
  let b: number | null = null;
  for (let c = 0; c < counts.length; c++) if (c !== a && (b === null || counts[c]! > counts[b]!)) b = c;
  return { a, b };
}

/**
 * Whether the vote winner A survives an attack that can move Δ votes: every class c ≠ A ends at most at
 * n_c + Δ and A at least at n_A − Δ, and the smoothed classifier breaks ties by the lower class index, so
 *   n_A − Δ > n_B + Δ,  or  n_A − Δ = n_B + Δ and A < B,
 * with B the runner-up of `topTwo` (docs/certificates.md, "Vote-gap certificates").
 * @category Math
 */
export function voteGapHolds(nA: number, nB: number, a: number, b: number, delta: number): boolean {
  const gap = nA - nB - 2 * delta;
  return gap > 0 || (gap === 0 && a < b);
}

/**
 * Deterministic certificate of an enumerating perturbation (feature partitions: Hammoudeh & Lowd 2023; bands and
 * blocks: Levine & Feizi 2020b): classify every one of the T ablations once, predict the vote winner A (ties to
 * the lower class index), and certify the largest ρ with n_A − Δ(ρ) > n_B + Δ(ρ) (equality when A < B), where
 * Δ(ρ) is the most votes an attack of radius ρ can move. Exact counts: the certificate is never wrong (α = 0),
 * and the smoothed classifier never abstains.
 *
 * Reported: `nA` and `nB` (the runner-up's votes), `pLower` = n_A/T and `pUpper` = n_B/T, the exact vote shares
 * (not confidence bounds); `n` = `samples` = T; `n0` = 0.
 * @category Plug-in authors
 */
export class VoteGapCertifier implements Certifier {
  readonly type = 'vote-gap';
  readonly alpha = 0;
  readonly n0 = 0;
  readonly n = 0;
  readonly deterministic = true;

  async certify(sample: VoteSampler, bound: RobustnessBound): Promise<Certificate> {
    if (!sample.enumerate) {
      throw new ArgumentError('certifier', 'vote-gap needs a perturbation that enumerates its ablations (partition, band); this one only samples', 'use the cohen or lecuyer certifier, or a partition/band perturbation');
    }
    const { counts, total: T, affected } = await sample.enumerate();
    const { a, b } = topTwo(counts);
    const nA = counts[a]!;
    const nB = b === null ? 0 : counts[b]!;
    const holds = (rho: number) => b === null || voteGapHolds(nA, nB, a, b, affected(rho));
    const radius = largestRadius(holds, bound.maxRadius, bound.domain);
    return {
      prediction: a,
      radius,
      unit: bound.unit,
      pLower: nA / T,
      pUpper: nB / T,
      guess: a,
      nA,
      nB,
      n: T,
      n0: 0,
      alpha: 0,
      samples: T,
      deterministic: true,
      method: `vote-gap (deterministic: exact votes of all T = ${T} ablations; certified while n_A − Δ(ρ) > n_B + Δ(ρ), ties to the lower class index)`,
    };
  }
}
