import { assertInteger, assertOpenInterval } from './validate.js';

/**
 * Expected information (bits) about the input carried by one ablated sample, under the paper's uniform-data
 * assumption (eq. 20): I_ablate = k · log2 |S|.
 * @category Math
 */
export function informationAblation(retain: number, levels = 256): number {
  assertInteger('retain', retain, 0);
  assertInteger('levels', levels, 2);
  return retain * Math.log2(levels);
}

/**
 * Expected information (bits) per Lee-noise sample (eq. 21):
 * I_Lee = d · (log2|S| + κ·log2 κ + (1−κ)·log2((1−κ)/(|S|−1))).
 * @category Math
 */
export function informationLeeNoise(d: number, keepProb: number, levels = 256): number {
  assertInteger('d', d, 1);
  assertInteger('levels', levels, 2);
  assertOpenInterval('keepProb', keepProb, 0, 1);
  const k = keepProb;
  return d * (Math.log2(levels) + k * Math.log2(k) + (1 - k) * Math.log2((1 - k) / (levels - 1)));
}
