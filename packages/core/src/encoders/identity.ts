import type { PerturbedBatch } from '../perturbations/perturbed-batch.js';
import type { Encoder } from './encoder.js';
import { NormalizationCache, type Normalization } from './normalization.js';

/** Passes values through (optionally normalized): for schemes without NULL (Lee-style noise, Gaussian). @category Plug-in authors */
export class IdentityEncoder implements Encoder {
  readonly type = 'identity';
  private readonly coefficients: NormalizationCache;
  constructor(private readonly normalize?: Normalization) {
    this.coefficients = new NormalizationCache(normalize);
  }

  outputChannels(inputChannels: number): number {
    return inputChannels;
  }

  encode(batch: PerturbedBatch, count: number, out: Float32Array): void {
    const [C] = batch.shape;
    const d = batch.locationsPerSample;
    const F = batch.featuresPerSample;
    if (!this.normalize) {
      out.set(batch.values.subarray(0, count * F));
      return;
    }
    const { scale, shift } = this.coefficients.get(C);
    for (let s = 0; s < count; s++) {
      for (let c = 0; c < C; c++) {
        const off = s * F + c * d;
        for (let p = 0; p < d; p++) out[off + p] = batch.values[off + p]! * scale[c]! + shift[c]!;
      }
    }
  }

  /** `identity` (with its normalization, if any). */
  describe(): string {
    return 'identity';
  }
}
