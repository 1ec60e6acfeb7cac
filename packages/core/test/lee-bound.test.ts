import { describe, expect, it } from 'vitest';
import { leeNoiseBound, maxCertifiedRadius, ablationBound, LeeNoisePerturbation, PerturbedBatch, Rng } from '../src/index.js';

// Exhaustive check of the Lee-noise bound: d = 4 features, K = 3 levels, all 81 noise outcomes.
const d = 4;
const K = 3;
const outcomes = Array.from({ length: K ** d }, (_, z) => digits(z));

function digits(z: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < d; i++) {
    out.push(z % K);
    z = Math.floor(z / K);
  }
  return out;
}

/** P(noise(x) = z) with keep probability κ and uniform replacement by one of the K − 1 other levels. */
function density(x: number[], z: number[], kappa: number): number {
  let p = 1;
  for (let i = 0; i < d; i++) p *= z[i] === x[i] ? kappa : (1 - kappa) / (K - 1);
  return p;
}

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

for (const kappa of [0.5, 0.2]) {
  describe(`Lee bound by enumeration (d = 4, K = 3, κ = ${kappa})`, () => {
    const bound = leeNoiseBound(d, K, kappa);
    const x = [0, 1, 2, 1];
    const neighbours = outcomes.filter((y) => y.some((v, i) => v !== x[i]));
    const distance = (y: number[]) => y.filter((v, i) => v !== x[i]).length;

    it('is sound for 300 random base classifiers and every x′', () => {
      const rand = lcg(7);
      for (let trial = 0; trial < 300; trial++) {
        const density01 = rand();
        const A = outcomes.map(() => rand() < density01);
        const px = outcomes.reduce((s, z, j) => s + (A[j] ? density(x, z, kappa) : 0), 0);
        for (const y of neighbours) {
          const py = outcomes.reduce((s, z, j) => s + (A[j] ? density(y, z, kappa) : 0), 0);
          const r = distance(y);
          expect(py).toBeGreaterThanOrEqual(bound.lower(px, r) - 1e-12);
          expect(py).toBeLessThanOrEqual(bound.upper(px, r) + 1e-12);
        }
      }
    });

    it('is tight: the Neyman–Pearson sets attain it', () => {
      for (const y of neighbours) {
        const r = distance(y);
        // Sort outcomes by likelihood ratio P_y/P_x ascending: prefixes are the worst-case classifiers.
        const order = outcomes
          .map((z) => ({ px: density(x, z, kappa), py: density(y, z, kappa) }))
          .sort((a, b) => a.py / a.px - b.py / b.px);
        let px = 0;
        let py = 0;
        for (const o of order) {
          px += o.px;
          py += o.py;
          expect(bound.lower(Math.min(px, 1), r)).toBeCloseTo(py, 12);
          expect(bound.lower(Math.min(px, 1), r)).toBeLessThanOrEqual(py + 1e-15);
        }
        // and from the other side for upper
        let qx = 0;
        let qy = 0;
        for (const o of [...order].reverse()) {
          qx += o.px;
          qy += o.py;
          expect(bound.upper(Math.min(qx, 1), r)).toBeCloseTo(Math.min(qy, 1), 12);
        }
      }
    });

    it('is monotone in r', () => {
      for (const p of [0.3, 0.6, 0.9, 0.99]) {
        for (let r = 1; r < d; r++) {
          expect(bound.lower(p, r + 1)).toBeLessThanOrEqual(bound.lower(p, r));
          expect(bound.upper(p, r + 1)).toBeGreaterThanOrEqual(bound.upper(p, r));
        }
      }
    });
  });
}

describe('Lee bound: worked numbers', () => {
  it('K = 256, κ = 0.1, r = 1 certifies exactly when pA > 0.5 + κ − (1−κ)/255', () => {
    const threshold = 0.5 + 0.1 - 0.9 / 255; // ≈ 0.59647
    expect(threshold).toBeCloseTo(0.5965, 4);
    const bound = leeNoiseBound(784, 256, 0.1);
    expect(bound.lower(threshold + 1e-9, 1)).toBeGreaterThan(0.5);
    expect(bound.lower(threshold - 1e-9, 1)).toBeLessThan(0.5);
    expect(maxCertifiedRadius({ bound, pLower: threshold + 1e-6 })).toBe(1);
    expect(maxCertifiedRadius({ bound, pLower: threshold - 1e-6 })).toBe(0);
  });

  it('ablation with the same pA on d = 3·224·224 certifies one pixel up to k = 14 521', () => {
    const pA = 0.5 + 0.1 - 0.9 / 255;
    const d = 3 * 224 * 224;
    expect(maxCertifiedRadius({ bound: ablationBound(d, 14521), pLower: pA })).toBe(1);
    expect(maxCertifiedRadius({ bound: ablationBound(d, 14522), pLower: pA })).toBe(0);
  });

  it('handles r in the hundreds (MNIST d = 784) with a monotone, sound search', () => {
    const bound = leeNoiseBound(784, 256, 0.1);
    const r = maxCertifiedRadius({ bound, pLower: 0.9997 });
    expect(r).toBeGreaterThanOrEqual(1);
    expect(bound.lower(0.9997, r!)).toBeGreaterThan(0.5);
    expect(bound.lower(0.9997, r! + 1)).toBeLessThanOrEqual(0.5);
    // binary alphabet (c = 0): region t = 1 has P_x = 0.9, P_x′ = 0.1; t = −1 has 0.1 / 0.9.
    // lower(0.99, 1) = 0.1 + (0.99 − 0.9)/0.1 · 0.9 = 0.91
    const binary = leeNoiseBound(784, 2, 0.9);
    expect(binary.lower(0.99, 1)).toBeCloseTo(0.91, 12);
  });

  it('sampling realizes κ and never replaces a value by itself', () => {
    const pert = new LeeNoisePerturbation({ levels: 256, keepProb: 0.1 });
    expect(Math.abs(pert.realizedKeepProb - 0.1)).toBeLessThan(2 ** -32);
    const F = 784;
    const x = new Float32Array(F).map((_, i) => (i % 256) / 255);
    const batch = new PerturbedBatch([1, 28, 28], 200);
    pert.sample(x, [1, 28, 28], new Rng(3), batch, 200);
    let kept = 0;
    const hist = new Float64Array(256);
    for (let s = 0; s < 200; s++)
      for (let i = 0; i < F; i++) {
        const v = Math.round(batch.values[s * F + i]! * 255);
        if (v === i % 256) kept++;
        else if (i % 256 === 7) hist[v]++;
      }
    const rate = kept / (200 * F);
    // 156 800 Bernoulli(0.1) draws: sd ≈ 0.00076
    expect(Math.abs(rate - 0.1)).toBeLessThan(0.004);
    expect(hist[7]).toBe(0);
  });
});
