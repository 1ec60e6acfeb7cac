import { describe, expect, it } from 'vitest';
import { ablationBound, maxCertifiedRadius, PerturbedBatch, Rng } from '@ablate/core';
import { BlockAblation } from '../src/block-ablation.js';
import { certifyWithBothCertifiers } from '../src/main.js';

describe('examples/custom-perturbation', () => {
  it('samples exactly one w×w block per sample', () => {
    const pert = new BlockAblation({ block: 5 });
    const batch = new PerturbedBatch([1, 28, 28], 20);
    pert.sample(new Float32Array(784).fill(1), [1, 28, 28], new Rng(1), batch, 20);
    for (let s = 0; s < 20; s++) expect(batch.kept.subarray(s * 784, (s + 1) * 784).reduce((a, b) => a + b, 0)).toBe(25);
  });

  it('its bound is the union bound ρ·w²/d', () => {
    const bound = new BlockAblation({ block: 5 }).bound([1, 28, 28]);
    expect(bound.lower(0.9, 3)).toBeCloseTo(0.9 - (3 * 25) / 784, 12);
    expect(bound.lower(0.9, 3)).toBeLessThanOrEqual(0.9 - (3 * 25) / 784);
    // with pA_lower ≥ 0.9997: largest ρ with 0.9997 − 25ρ/784 > ½ is 15
    expect(maxCertifiedRadius({ bound, pLower: 0.9997 })).toBe(15);
    // for comparison: pixel ablation with the same 25 retained pixels has the exact Δ of Theorem 1, which beats
    // this union bound against scattered L0 changes (blocks pay off against contiguous patches instead)
    expect(maxCertifiedRadius({ bound: ablationBound(784, 25), pLower: 0.9997 })).toBeGreaterThan(15);
  });

  it('is certified by both certifiers through createContainer', async () => {
    const { cohen, lecuyer } = await certifyWithBothCertifiers({ n0: 50, n: 2000 });
    expect(cohen!.prediction).toBe(1);
    expect(lecuyer!.prediction).toBe(1);
    expect(cohen!.radius).toBeGreaterThanOrEqual(1);
    expect(lecuyer!.method).toMatch(/Bonferroni/);
    expect(cohen!.unit).toBe('pixels');
  });
});
