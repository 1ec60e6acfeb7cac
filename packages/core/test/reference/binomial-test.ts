import Decimal from 'decimal.js';

/**
 * Arbitrary-precision references for the two-sided binomial test at p = ½, independent of the implementation:
 * the p-value of k out of n is P(|X − n/2| ≥ |k − n/2|) = 2·Σ_{j ≥ m} C(n, j)·2⁻ⁿ with m = max(k, n − k)
 * (1 when k = n/2).
 */

/** The exact p-value as a fraction num / 2^shift (BigInt sums of exact binomial coefficients). */
export function exactPValue(k: number, n: number): { num: bigint; shift: number } {
  const m = Math.max(k, n - k);
  if (n === 0 || 2 * m === n) return { num: 1n, shift: 0 };
  // C(n, n) = 1, C(n, j − 1) = C(n, j)·j / (n − j + 1), summed for j = n … m.
  let c = 1n;
  let sum = 1n;
  for (let j = n; j > m; j--) {
    c = (c * BigInt(j)) / BigInt(n - j + 1);
    sum += c;
  }
  return { num: sum, shift: n - 1 };
}

/** The double x ≥ 0 as an exact fraction mant / 2^1074. */
function exactDouble(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const b = view.getBigUint64(0);
  const e = Number((b >> 52n) & 0x7ffn);
  const f = b & ((1n << 52n) - 1n);
  return e === 0 ? f : (f | (1n << 52n)) << BigInt(e - 1);
}

/** Compares the double x with the fraction num / 2^shift exactly: x·den ≥ (1 + rel)·num with rel = a / b. */
export function compareExact(x: number, exact: { num: bigint; shift: number }): { atLeast: boolean; within: (relNum: bigint, relDen: bigint) => boolean } {
  const lhs = exactDouble(x) << BigInt(exact.shift); // x·2^shift·2^1074
  const rhs = exact.num << 1074n;
  return { atLeast: lhs >= rhs, within: (a, b) => lhs * b <= rhs * (a + b) };
}

/** The exact p-value to 40 significant digits (for messages). */
export function exactToDecimal(exact: { num: bigint; shift: number }): Decimal {
  const D = Decimal.clone({ precision: 40, minE: -9e15, maxE: 9e15 });
  return new D(exact.num.toString()).div(new D(2).pow(exact.shift));
}

const D = Decimal.clone({ precision: 80, toExpNeg: -9e15, toExpPos: 9e15, minE: -9e15, maxE: 9e15 });
type Dec = InstanceType<typeof D>;
const HALF_LN_2PI = D.ln(new D(2).times(D.acos(-1))).div(2);
/** B_{2j} / (2j (2j − 1)) for j = 1 … 8: the Stirling series ln x! = (x + ½) ln x − x + ½ ln 2π + Σ c_j / x^{2j−1}. */
const STIRLING = [
  [1, 12], [-1, 360], [1, 1260], [-1, 1680], [1, 1188], [-691, 360360], [1, 156], [-3617, 122400],
].map(([a, b]) => new D(a!).div(b!));

/** ln x! for an integer x: summed logs below 200, the Stirling series above (truncation < 0.2/x^17 < 1e-39). */
function lnFactorial(x: number): Dec {
  if (x < 200) {
    let s = new D(0);
    for (let i = 2; i <= x; i++) s = s.plus(D.ln(i));
    return s;
  }
  const X = new D(x);
  let s = X.plus(0.5).times(D.ln(X)).minus(X).plus(HALF_LN_2PI);
  for (let j = 0; j < STIRLING.length; j++) s = s.plus(STIRLING[j]!.div(X.pow(2 * j + 1)));
  return s;
}

/**
 * The p-value in 80-digit decimal arithmetic for large n: t_m = exp(ln n! − ln m! − ln (n − m)! − n ln 2), then the
 * exact ratios t_{j+1}/t_j = (n − j)/(j + 1) until a term falls below 10⁻⁵⁰ of the sum.
 */
export function decimalPValue(k: number, n: number): Dec {
  const m = Math.max(k, n - k);
  if (n === 0 || 2 * m === n) return new D(1);
  let term = D.exp(lnFactorial(n).minus(lnFactorial(m)).minus(lnFactorial(n - m)).minus(D.ln(2).times(n)));
  let sum = term;
  const cutoff = new D(10).pow(-50);
  for (let j = m; j < n; j++) {
    term = term.times(n - j).div(j + 1);
    sum = sum.plus(term);
    if (term.lt(sum.times(cutoff))) break;
  }
  return sum.times(2);
}

export { D as PValueDecimal };
