import type { RobustnessBound } from '../perturbations/perturbation.js';

/** Draws `num` fresh perturbed samples of the current input, classifies them and returns per-class counts. @category Plug-in authors */
export interface VoteSampler {
  (num: number, phase?: 'selection' | 'estimation'): Promise<Uint32Array>;
  /**
   * Present when the perturbation enumerates its ablations (`Perturbation.enumeration`): classifies each of the T
   * ablations once, in the enumeration's fixed order, and returns the exact counts (no sampling, no α).
   */
  enumerate?: () => Promise<EnumeratedVotes>;
}

/** Exact votes over all T ablations of an enumerating perturbation. @category Plug-in authors */
export interface EnumeratedVotes {
  /** Per-class counts; they sum to `total`. */
  counts: Uint32Array;
  /** T. */
  total: number;
  /** Δ(ρ): the most of the T votes an attack of radius ρ can move (Enumeration.affected). */
  affected(rho: number): number;
}

/** The outcome of certifying one input. @category App authors */
export interface Certificate {
  /** The smoothed classifier's class, or null when it abstains. */
  prediction: number | null;
  /** Largest certified radius in `unit`s (integer for L0), or null when abstaining. */
  radius: number | null;
  /** Unit of `radius`: "pixels", "features" or "l2". */
  unit: string;
  /** Lower confidence bound on p_A, the probability of the predicted (or guessed) class. */
  pLower: number;
  /** Upper confidence bound on the runner-up class probability (Lecuyer certifier only). */
  pUpper?: number;
  /** The class guessed from the selection samples (ĉA), even when abstaining. */
  guess: number;
  /** Votes for ĉA among the n estimation samples. */
  nA: number;
  /** Votes for the runner-up class B (vote-gap only: the exact count of the class of `topTwo`, the lowest class
   *  index among tied runners-up; 0 when there is no other class). */
  nB?: number;
  /** Estimation samples used (fixed n for Cohen/Lecuyer; where the sequential certifier stopped). */
  n: number;
  /** Selection samples used. */
  n0: number;
  alpha: number;
  /** Which certifier produced it, with any statistical note (e.g. Bonferroni correction). */
  method: string;
  /** Base-classifier evaluations spent on this certificate: selection + estimation (n0 + n for Cohen/Lecuyer, where
   *  it stopped for sequential; T for vote-gap). */
  samples: number;
  /** True when the certificate cannot be wrong (exact counts, no α): vote-gap. */
  deterministic?: boolean;
}

/**
 * Turns votes into a certificate, generic over any robustness bound. The guarantee: with probability at least
 * 1 − α (over the sampling), if the certificate names a class and radius R, the smoothed classifier g returns
 * that class at every x′ within R of x.
 * @category Plug-in authors
 */
export interface Certifier {
  readonly type: string;
  readonly alpha: number;
  readonly n0: number;
  readonly n: number;
  /** True for certifiers that need `VoteSampler.enumerate` (exact counts) instead of sampling. */
  readonly deterministic?: boolean;
  /**
   * Draws votes through `sample` and returns the certificate, its radius under `bound`. A certifier with checks
   * (the sequential one) reports each through `context.report`, which the engine passes on as progress.
   */
  certify(sample: VoteSampler, bound: RobustnessBound, context?: CertifyContext): Promise<Certificate>;
}

/** Where a sequential certifier stands after one of its checks (passed on in `RunProgress`). @category Plug-in authors */
export interface CheckProgress {
  /** The check just made (1-based) and the number of checks in the schedule. */
  check: number;
  checks: number;
  /** Confidence bounds on p_A at this check: L = max of the CP-lower bounds so far, U = CP-upper at α_j. */
  pLower: number;
  pUpper: number;
  /** r(L), the radius certified now, and r(U), the most any continuation could certify (null: none). */
  radiusLower: number | null;
  radiusUpper: number | null;
}

/** What the engine hands a certifier besides the sampler and the bound. @category Plug-in authors */
export interface CertifyContext {
  /** Called after each check of a sequential procedure (must not throw). */
  report?: (progress: CheckProgress) => void;
}

/** Index of the largest count (lowest index on ties). @category Math */
export function topClass(counts: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < counts.length; i++) if (counts[i]! > counts[best]!) best = i;
  return best;
}
