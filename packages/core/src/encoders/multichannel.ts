import type { PerturbedBatch } from '../perturbations/perturbed-batch.js';
import type { Encoder } from './encoder.js';
import { NormalizationCache, type Normalization } from './normalization.js';

/**
 * The paper's multichannel NULL encoding: a retained value s becomes (s, 1 − s) on two channels, NULL becomes
 * (0, 0); C channels become 2C, ordered (c₀ … c_{C−1}, 1−c₀ … 1−c_{C−1}).
 * @category Plug-in authors
 */
export class MultichannelEncoder implements Encoder {
  readonly type = 'multichannel';
  private readonly coefficients: NormalizationCache;
  constructor(private readonly normalize?: Normalization) {
    this.coefficients = new NormalizationCache(normalize);
  }

  outputChannels(inputChannels: number): number {
    return 2 * inputChannels;
  }

  encode(batch: PerturbedBatch, count: number, out: Float32Array): void {
    const [C] = batch.shape;
    const d = batch.locationsPerSample;
    const F = batch.featuresPerSample;
    const { scale, shift } = this.coefficients.get(C);
    const { values, kept } = batch;
    for (let s = 0; s < count; s++) {
      const inBase = s * F;
      const outBase = s * 2 * F;
      const maskBase = s * d;
      for (let c = 0; c < C; c++) {
        const sc = scale[c]!;
        const sh = shift[c]!;
        const src = inBase + c * d;
        const pos = outBase + c * d;
        const neg = outBase + (C + c) * d;
        for (let p = 0; p < d; p++) {
          if (kept[maskBase + p]) {
            const v = values[src + p]! * sc + sh;
            out[pos + p] = v;
            out[neg + p] = 1 - v;
          } else {
            out[pos + p] = 0;
            out[neg + p] = 0;
          }
        }
      }
    }
  }

  /** `multichannel` (with its normalization, if any). */
  describe(): string {
    return 'multichannel';
  }
}
