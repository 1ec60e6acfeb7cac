import { describe, expect, it } from 'vitest';
import { LeeNoisePerturbation, maxCertifiedRadius } from '../src/index.js';

/**
 * Lee et al. (2019)'s own MNIST setting, from their released code (guanghelee/neurips19-certificates-of-robustness,
 * MNIST_exp: binarized MNIST, K = 1 in their notation = 2 levels here, keep probability α = 0.8, d = 784) and the
 * ρ_r⁻¹(0.5) thresholds they publish for it (MNIST_exp/main/thresholds/mnist/0.8.txt): radius r is certified
 * once pA exceeds the threshold. Our tight Lee bound reproduces every one of them.
 */
const PUBLISHED = [0.875, 0.96875, 0.9921875, 0.99275, 0.9969875, 0.999006875, 0.99970371875, 0.9999163296875];

describe("Lee et al.'s published MNIST thresholds (binary, κ = 0.8)", () => {
  const bound = new LeeNoisePerturbation({ levels: 2, keepProb: 0.8 }).bound([1, 28, 28]);
  it.each(PUBLISHED.map((t, i) => [i + 1, t]))('radius %i needs pA > %f', (r, t) => {
    expect(maxCertifiedRadius({ bound, pLower: t + 1e-9 })).toBe(r);
    expect(maxCertifiedRadius({ bound, pLower: t - 1e-9 })).toBe(r - 1);
  });
});
