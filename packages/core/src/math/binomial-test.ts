import { nextUp } from './float.js';

/**
 * The two-sided exact binomial test of H0: p = ½ (Cohen et al.'s PREDICT), computed so that the returned p-value
 * is never below the exact one and exceeds it by less than 1e-9 relative (the error bound added: ~1e-13 + 4.4e-16 per summed term) wherever the exact value is ≥ 1e-300.
 *
 * For X ~ Bin(n, ½) the test statistic is |X − n/2|, so the p-value of k successes is
 * P(|X − n/2| ≥ |k − n/2|) = 2·P(X ≥ m) with m = max(k, n − k) (exactly 1 when k = n/2). Up to
 * EXACT_MAX_TRIALS it is summed exactly and rounded up to the nearest double (so p = α exactly is seen as such:
 * 5–0 votes give 0.0625). Above, P(X ≥ m) is the
 * probability t_m = C(n, m)·2⁻ⁿ of m times Σ_{j ≥ m} t_j/t_m, whose terms follow the exact ratio
 * t_{j+1}/t_j = (n − j)/(j + 1) < 1; the sum stops once a geometric bound on the rest is below 2⁻⁵⁸ of it and adds
 * that bound. t_m comes from Loader's saddle-point form (Loader 2000, "Fast and accurate computation of binomial
 * probabilities"): t_m = exp(δ(n) − δ(m) − δ(n − m) − D(m) − D(n − m))·√(n / (2π m (n − m))) with Stirling's error
 * δ and the deviance D(x) = x ln(2x/n) + n/2 − x, each accurate to a few ulps of its own size, so the log of the
 * p-value is accurate to about 1e-16·(its size + the number of summed terms). The result is raised by a bound on
 * that error (with a margin of 2^6) and one ulp, so it is rounded up; the tests check it against exact BigInt
 * sums and a 80-digit reference down to 1e-300 (docs/certificates.md, "PREDICT").
 */
export function twoSidedBinomialPValue(successes: number, trials: number): number {
  const n = trials;
  const m = Math.max(successes, n - successes);
  if (n === 0 || 2 * m === n) return 1;
  if (m === n) return n <= 1075 ? 2 ** (1 - n) : Number.MIN_VALUE; // 2·2⁻ⁿ exactly; below MIN_VALUE rounded up to it
  if (n <= EXACT_MAX_TRIALS) return exactPValue(m, n);
  const half = n / 2;
  const devA = deviance(m, half);
  const devB = deviance(n - m, half);
  const logTerm = stirlingError(n) - stirlingError(m) - stirlingError(n - m) - devA - devB + 0.5 * Math.log(n / (2 * Math.PI * m * (n - m)));
  // Σ_{j ≥ m} t_j / t_m.
  let term = 1;
  let sum = 1;
  let steps = 0;
  for (let j = m; j < n; j++) {
    const r = (n - j) / (j + 1);
    const rest = (term * r) / (1 - r); // ≥ Σ_{i > j} t_i/t_m: the ratios only decrease
    if (rest <= sum * 2 ** -58) {
      sum += nextUp(rest * (1 + 2 ** -50));
      break;
    }
    term *= r;
    sum += term;
    steps++;
  }
  const logP = Math.LN2 + logTerm + Math.log(sum);
  // Error bound of logP: δ's ≤ 1e-14 absolute in all; deviances and the log terms a few ulps of their size (64 ulps
  // allowed); the recurrence ≤ 2 roundings per step, the summation ≤ 1 per term.
  const u = 2 ** -53;
  const slack = 5e-14 + 64 * u * (devA + devB + Math.abs(logTerm) + Math.abs(logP) + 8) + 4 * u * steps;
  return Math.min(1, nextUp(Math.exp(logP + slack)));
}

/** Up to this many trials the p-value is summed exactly in BigInt (≤ 128 steps on ≤ 256-bit integers, ~50 µs). */
export const EXACT_MAX_TRIALS = 256;

/**
 * 2·Σ_{j ≥ m} C(n, j) / 2ⁿ exactly (BigInt), rounded up to the nearest double: the smallest double ≥ the exact
 * p-value (for n ≤ 1024 it is ≥ 2⁻¹⁰²² when m < n, so the scaling by 2^(1−n) is exact).
 */
function exactPValue(m: number, n: number): number {
  let c = 1n;
  let sum = 1n;
  for (let j = n; j > m; j--) {
    c = (c * BigInt(j)) / BigInt(n - j + 1); // C(n, j − 1) from C(n, j), exactly
    sum += c;
  }
  let shift = n - 1;
  const extra = sum.toString(2).length - 53;
  if (extra > 0) {
    const top = sum >> BigInt(extra);
    sum = (top << BigInt(extra)) === sum ? top : top + 1n; // keep 53 bits, rounding up
    shift -= extra;
  }
  return Math.min(1, Number(sum) * 2 ** -shift);
}

const HALF_LN_2PI = 0.9189385332046727417803297; // ½ ln(2π)
/** Stirling-series coefficients 1/12, 1/360, 1/1260, 1/1680, 1/1188 (Loader's stirlerr). */
const S0 = 1 / 12;
const S1 = 1 / 360;
const S2 = 1 / 1260;
const S3 = 1 / 1680;
const S4 = 1 / 1188;

/**
 * Stirling's error δ(k) = ln k! − (k + ½) ln k + k − ½ ln(2π) for an integer k ≥ 1, to ≤ 1e-14 absolute: directly
 * from the exact k! for k ≤ 15, else from the Stirling series (truncation below 2e-16, as in Loader's stirlerr).
 */
function stirlingError(k: number): number {
  if (k <= 15) {
    let f = 1;
    for (let i = 2; i <= k; i++) f *= i; // exact: 15! < 2⁵³
    return Math.log(f) - (k + 0.5) * Math.log(k) + k - HALF_LN_2PI;
  }
  const kk = k * k;
  if (k > 500) return (S0 - S1 / kk) / k;
  if (k > 80) return (S0 - (S1 - S2 / kk) / kk) / k;
  if (k > 35) return (S0 - (S1 - (S2 - S3 / kk) / kk) / kk) / k;
  return (S0 - (S1 - (S2 - (S3 - S4 / kk) / kk) / kk) / kk) / k;
}

/** The deviance D(x, M) = x ln(x/M) + M − x ≥ 0 for x > 0 (Loader's bd0): a series in v = (x − M)/(x + M) near M. */
function deviance(x: number, M: number): number {
  if (Math.abs(x - M) < 0.1 * (x + M)) {
    let v = (x - M) / (x + M);
    let s = (x - M) * v;
    let ej = 2 * x * v;
    v *= v;
    for (let j = 1; j < 1000; j++) {
      ej *= v;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
  }
  return x * Math.log(x / M) + M - x;
}
