import { binomialTestPValue } from '../math/statistics.js';

/** The outcome of PREDICT for one input. @category App authors */
export interface Prediction {
  /** The top class, or null when abstaining. */
  prediction: number | null;
  /** Votes of the top two classes among n samples. */
  nA: number;
  nB: number;
  n: number;
  /** Two-sided binomial test p-value of nA vs nB. */
  pValue: number;
  alpha: number;
}

/**
 * PREDICT of Cohen et al. (2019): take the top two counts, run a two-sided binomial test of nA out of nA + nB
 * at p = ½, abstain when the p-value exceeds α. Guarantee: the probability of returning a class other than
 * g(x) is at most α.
 * @category Math
 */
export function predictFromCounts(counts: ArrayLike<number>, n: number, alpha: number): Prediction {
  let a = 0;
  let b = -1;
  for (let i = 1; i < counts.length; i++) {
    if (counts[i]! > counts[a]!) {
      b = a;
      a = i;
    } else if (b < 0 || counts[i]! > counts[b]!) b = i;
  }
  const nA = counts[a] ?? 0;
  const nB = b >= 0 ? counts[b]! : 0;
  const pValue = binomialTestPValue(nA, nA + nB);
  return { prediction: pValue > alpha ? null : a, nA, nB, n, pValue, alpha };
}
