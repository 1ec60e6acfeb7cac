import { ArgumentError } from '../errors.js';
import type { PerturbedBatch } from '../perturbations/perturbed-batch.js';
import type { Encoder } from './encoder.js';
import { NormalizationCache, type Normalization } from './normalization.js';

/**
 * Mean NULL encoding (paper, Table 8): NULL locations take a per-channel fill value — by default the training
 * set's mean pixel — and channels stay C. The fill is given in input units and normalized like the pixels.
 * @category Plug-in authors
 */
export class MeanEncoder implements Encoder {
  readonly type = 'mean';
  private readonly coefficients: NormalizationCache;
  constructor(private readonly fill: readonly number[], normalize?: Normalization) {
    this.coefficients = new NormalizationCache(normalize);
    if (fill.length === 0) throw new ArgumentError('fill', 'must list at least one value', 'give one value, or one per channel');
    fill.forEach((v, i) => {
      if (!Number.isFinite(v)) throw new ArgumentError(`fill[${i}]`, `must be a finite number, got ${v}`);
    });
  }

  outputChannels(inputChannels: number): number {
    return inputChannels;
  }

  encode(batch: PerturbedBatch, count: number, out: Float32Array): void {
    const [C] = batch.shape;
    if (this.fill.length !== 1 && this.fill.length !== C) {
      throw new ArgumentError('fill', `has ${this.fill.length} values for ${C} channels`, `give 1 or ${C} values`);
    }
    const d = batch.locationsPerSample;
    const F = batch.featuresPerSample;
    const { scale, shift } = this.coefficients.get(C);
    const { values, kept } = batch;
    for (let s = 0; s < count; s++) {
      const base = s * F;
      const maskBase = s * d;
      for (let c = 0; c < C; c++) {
        const sc = scale[c]!;
        const sh = shift[c]!;
        const fillValue = this.fill[this.fill.length === 1 ? 0 : c]! * sc + sh;
        const off = base + c * d;
        for (let p = 0; p < d; p++) out[off + p] = kept[maskBase + p] ? values[off + p]! * sc + sh : fillValue;
      }
    }
  }

  /** `mean(fill=…)` (with its normalization, if any). */
  describe(): string {
    return `mean(fill=${this.fill.join(',')})`;
  }
}
