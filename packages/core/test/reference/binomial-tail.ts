import Decimal from 'decimal.js';

/**
 * Arbitrary-precision reference for the Clopper–Pearson tests, independent of @stdlib: the binomial tails
 * P(X ≥ k) and P(X ≤ k) for X ~ Bin(n, p), summed term by term in decimal.js at 60 significant digits.
 * C(n, k) is exact (BigInt); successive terms use the exact ratio t_{j+1}/t_j = (n−j)/(j+1) · p/(1−p).
 * The sum runs from k away from the mode and stops when a term falls below 10⁻⁵⁰ of the partial sum (the
 * terms decrease geometrically there), so it is cheap for the tails the bounds live in.
 */
const D = Decimal.clone({ precision: 60, toExpNeg: -9e15, toExpPos: 9e15, minE: -9e15, maxE: 9e15 });
type Dec = InstanceType<typeof D>;

function binomialCoefficient(n: number, k: number): bigint {
  const m = Math.min(k, n - k);
  let c = 1n;
  for (let i = 1; i <= m; i++) c = (c * BigInt(n - m + i)) / BigInt(i);
  return c;
}

const cutoff = new D(10).pow(-50);

/** P(X ≥ k), or P(X ≤ k) with `lowerTail`, for X ~ Bin(n, p); p is taken exactly (the double's value). */
export function binomialTail(n: number, k: number, p: number, lowerTail = false): Dec {
  const P = new D(p);
  const Q = new D(1).minus(P);
  if (P.isZero()) return new D(lowerTail || k === 0 ? 1 : 0);
  if (Q.isZero()) return new D(!lowerTail || k === n ? 1 : 0);
  let term: Dec = new D(binomialCoefficient(n, k).toString()).times(P.pow(k)).times(Q.pow(n - k));
  let sum: Dec = term;
  const ratio = P.div(Q);
  if (!lowerTail) {
    for (let j = k; j < n; j++) {
      term = term.times(n - j).div(j + 1).times(ratio);
      sum = sum.plus(term);
      if (term.lt(sum.times(cutoff)) && (j + 1) / n > p) break;
    }
  } else {
    for (let j = k; j > 0; j--) {
      term = term.times(j).div(n - j + 1).div(ratio);
      sum = sum.plus(term);
      if (term.lt(sum.times(cutoff)) && (j - 1) / n < p) break;
    }
  }
  return sum;
}

/** The exact one-sided lower Clopper–Pearson bound: the p with P(X ≥ k; n, p) = α, by bisection to 1e-40. */
export function exactLower(k: number, n: number, alpha: number): Dec {
  let lo = new D(0);
  let hi = new D(k).div(n);
  const a = new D(alpha);
  for (let i = 0; i < 140; i++) {
    const mid = lo.plus(hi).div(2);
    if (binomialTailD(n, k, mid).gt(a)) hi = mid;
    else lo = mid;
  }
  return lo;
}

function binomialTailD(n: number, k: number, P: Dec): Dec {
  const Q = new D(1).minus(P);
  let term: Dec = new D(binomialCoefficient(n, k).toString()).times(P.pow(k)).times(Q.pow(n - k));
  let sum: Dec = term;
  const ratio = P.div(Q);
  for (let j = k; j < n; j++) {
    term = term.times(n - j).div(j + 1).times(ratio);
    sum = sum.plus(term);
    if (term.lt(sum.times(cutoff)) && P.times(n).lt(j + 1)) break;
  }
  return sum;
}

export { D as RefDecimal };
