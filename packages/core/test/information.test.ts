import { describe, expect, it } from 'vitest';
import { informationAblation, informationLeeNoise } from '../src/index.js';

describe('information per smoothed sample (paper eq. 20–21)', () => {
  it('Lee et al. noise on ImageNet-size inputs, |S| = 256, κ = 0.1 → 50 590.40 bits', () => {
    expect(informationLeeNoise(3 * 224 * 224, 0.1, 256)).toBeCloseTo(50590.4, 1);
  });
  it('ablation with k = 14 521 → 116 168 bits', () => {
    expect(informationAblation(14521, 256)).toBe(116168);
  });
  it('Lee noise carries no information at κ = 1/|S| (uniform noise) and all of it as κ → 1', () => {
    expect(informationLeeNoise(784, 1 / 256, 256)).toBeCloseTo(0, 9);
    expect(informationLeeNoise(784, 1 - 1e-12, 256)).toBeCloseTo(784 * 8, 6);
  });
});
