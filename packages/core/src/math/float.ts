/**
 * Directed rounding helpers. Certificates must never be larger than the exact ones, so every bound we compute
 * in floating point is pushed one or more ulps in the conservative direction (see docs/certificates.md).
 */
const buf = new Float64Array(1);
const bits = new BigInt64Array(buf.buffer);

/** Unit roundoff of IEEE-754 double precision, 2^-53. @category Math */
export const UNIT_ROUNDOFF = 2 ** -53;

/** The next double above x (x itself for +∞ and NaN). @category Math */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  buf[0] = x;
  bits[0] += x > 0 ? 1n : -1n;
  return buf[0];
}

/** The next double below x. @category Math */
export function nextDown(x: number): number {
  return -nextUp(-x);
}

/** Clamp to [0, 1]. */
export function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** The exact value of a finite double ≥ 0 as an integer multiple of 2^-1074 (every such double is one). */
function scaled(x: number): bigint {
  buf[0] = x;
  const b = bits[0]!;
  const e = Number((b >> 52n) & 0x7ffn);
  const m = b & ((1n << 52n) - 1n);
  return e === 0 ? m : (m | (1n << 52n)) << BigInt(e - 1);
}

/** True when the exact (unrounded) sum of the finite non-negative doubles `xs` is ≤ `limit`. @category Math */
export function exactSumAtMost(xs: readonly number[], limit: number): boolean {
  let sum = 0n;
  for (const x of xs) sum += scaled(x);
  return sum <= scaled(limit);
}
