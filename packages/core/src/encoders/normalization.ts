import { ArgumentError } from '../errors.js';

/** Per-channel normalization (s − mean[c]) / std[c], applied to retained values before encoding. @category Plug-in authors */
export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

/**
 * Returns per-channel (scale, shift) so that normalized = s·scale + shift; identity when `norm` is absent.
 * Throws when the lists do not match the channel count or a std is not positive.
 */
export function normalizationCoefficients(norm: Normalization | undefined, channels: number): { scale: Float32Array; shift: Float32Array } {
  const scale = new Float32Array(channels).fill(1);
  const shift = new Float32Array(channels);
  if (!norm) return { scale, shift };
  for (const key of ['mean', 'std'] as const) {
    const list = norm[key];
    if (list.length !== 1 && list.length !== channels) {
      throw new ArgumentError(`normalize.${key}`, `has ${list.length} entries for ${channels} channels`, `give 1 or ${channels} values`);
    }
  }
  for (let c = 0; c < channels; c++) {
    const m = norm.mean[norm.mean.length === 1 ? 0 : c]!;
    const s = norm.std[norm.std.length === 1 ? 0 : c]!;
    if (!(s > 0) || !Number.isFinite(s)) throw new ArgumentError(`normalize.std[${c}]`, `must be a finite number > 0, got ${s}`);
    if (!Number.isFinite(m)) throw new ArgumentError(`normalize.mean[${c}]`, `must be finite, got ${m}`);
    scale[c] = 1 / s;
    shift[c] = -m / s;
  }
  return { scale, shift };
}

/** Caches the coefficients per channel count, so encoders do not recompute them for every batch. */
export class NormalizationCache {
  private cached?: { channels: number; scale: Float32Array; shift: Float32Array };
  constructor(private readonly norm: Normalization | undefined) {}
  get(channels: number): { scale: Float32Array; shift: Float32Array } {
    if (this.cached?.channels !== channels) this.cached = { channels, ...normalizationCoefficients(this.norm, channels) };
    return this.cached;
  }
}
