/**
 * Finds the largest radius ρ in [0, max] for which `holds(ρ)` is true, given that `holds` is monotone
 * (true up to some point, false after) and `holds(0)` is true. Returns -1 when `holds(0)` is false.
 *
 * - `integer` domain: exponential then binary search, O(log max) evaluations; the exact largest integer.
 * - `real` domain: bisection to a relative width of 1e-10; returns the lower end, so the answer never
 *   exceeds the true supremum.
 * @category Math
 */
export function largestRadius(holds: (rho: number) => boolean, max: number, domain: 'integer' | 'real'): number {
  if (!holds(0)) return -1;
  if (domain === 'integer') {
    // Doubling from 1 keeps every evaluation near the answer (bounds can cost O(ρ²), e.g. Lee noise).
    let lo = 0;
    let hi = 1;
    while (true) {
      if (hi >= max) {
        if (holds(max)) return max;
        hi = max;
        break;
      }
      if (!holds(hi)) break;
      lo = hi;
      hi *= 2;
    }
    // Invariant: holds(lo) && !holds(hi).
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (holds(mid)) lo = mid;
      else hi = mid;
    }
    return lo;
  }
  let lo = 0;
  let hi = 1;
  while (holds(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > max) {
      if (holds(max)) return max;
      hi = max;
      break;
    }
  }
  for (let i = 0; i < 200 && hi - lo > 1e-10 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (holds(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
