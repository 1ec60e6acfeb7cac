import { describe, expect, it } from 'vitest';
import { ablationDelta, ablationBound, AblationPerturbation, maxCertifiedRadius, clopperPearsonLower } from '../src/index.js';

/** Exact Δ = 1 − C(d−ρ,k)/C(d,k) as a rational in BigInt, then to a double (independent of the float code). */
function exactDelta(d: number, k: number, rho: number): number {
  const choose = (n: number, r: number): bigint => {
    if (r < 0 || r > n) return 0n;
    let acc = 1n;
    for (let i = 0; i < r; i++) acc = (acc * BigInt(n - i)) / BigInt(i + 1);
    return acc;
  };
  const num = choose(d - rho, k);
  const den = choose(d, k);
  // 1 − num/den with 60 decimal digits of precision
  const scale = 10n ** 60n;
  const frac = ((den - num) * scale) / den;
  return Number(frac) / 1e60;
}

describe('Theorem 1 constant Δ(ρ)', () => {
  it('matches the design vector Δ(d=784, k=45, ρ=8) ≈ 0.37816', () => {
    expect(ablationDelta(784, 45, 8)).toBeCloseTo(0.37816, 5);
  });

  it('agrees with exact rational arithmetic and is never below it', () => {
    for (const [d, k] of [
      [784, 45],
      [784, 20],
      [784, 100],
      [50, 7],
      [3072, 75],
    ] as const) {
      for (const rho of [0, 1, 2, 5, 8, 13, 40, d - k - 1, d - k, d - k + 1, d]) {
        if (rho < 0 || rho > d) continue;
        const exact = exactDelta(d, k, rho);
        const got = ablationDelta(d, k, rho);
        expect(got).toBeGreaterThanOrEqual(exact);
        expect(got - exact).toBeLessThan(1e-9 * Math.max(exact, 1e-6) + 1e-15);
      }
    }
  });

  it('is exact and fast up to ImageNet size d = 3·224·224', () => {
    const d = 3 * 224 * 224;
    const t0 = performance.now();
    const big = ablationDelta(d, 14521, 1);
    const elapsed = performance.now() - t0;
    expect(big).toBeCloseTo(14521 / d, 12); // ρ = 1: Δ = k/d exactly
    expect(big).toBeGreaterThanOrEqual(14521 / d);
    expect(ablationDelta(d, 1000, 100)).toBeCloseTo(exactDelta(d, 1000, 100), 12);
    expect(ablationDelta(d, 1000, d - 999)).toBe(1);
    // a rough sanity check only: speed targets live in the benchmark
    expect(elapsed).toBeLessThan(1000);
  });

  it('is monotone in ρ', () => {
    let prev = 0;
    for (let rho = 0; rho <= 784; rho++) {
      const v = ablationDelta(784, 45, rho);
      expect(v).toBeGreaterThanOrEqual(prev);
      prev = v;
    }
    expect(prev).toBe(1);
  });
});

describe('design vectors: certified radii at n = 10 000 all correct, α = 0.05', () => {
  const pLower = clopperPearsonLower(10_000, 10_000, 0.05);
  it.each([
    [45, 11],
    [20, 26],
    [100, 5],
  ])('k = %i gives radius %i', (k, radius) => {
    expect(pLower).toBeCloseTo(0.9997, 4);
    expect(maxCertifiedRadius({ bound: ablationBound(784, k), pLower })).toBe(radius);
    expect(maxCertifiedRadius({ perturbation: new AblationPerturbation({ retain: k }), shape: [1, 28, 28], pLower })).toBe(radius);
  });

  it('abstains (null) when pLower ≤ ½', () => {
    expect(maxCertifiedRadius({ bound: ablationBound(784, 45), pLower: 0.5 })).toBeNull();
    expect(maxCertifiedRadius({ bound: ablationBound(784, 45), pLower: 0.50001 })).toBe(0);
  });
});
