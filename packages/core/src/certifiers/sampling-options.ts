import { ArgumentError } from '../errors.js';
import { MAX_SAMPLES, MIN_ALPHA } from '../limits.js';
import { assertInteger, assertOpenInterval } from '../math/validate.js';

/** Options every sampling certifier takes (config names from the paper / Cohen et al.). @category Plug-in authors */
export interface SamplingOptions {
  /** α: failure probability of the certificate, in (0, 1). */
  alpha: number;
  /** n0: samples used to select the top class ĉA. */
  n0: number;
  /** n: samples used to bound p_A. */
  n: number;
}

/** Checks α ∈ [MIN_ALPHA, 1) and 1 ≤ n0, n ≤ MAX_SAMPLES (see limits.ts). */
export function validateSampling(options: SamplingOptions): void {
  assertOpenInterval('alpha', options.alpha, 0, 1);
  if (options.alpha < MIN_ALPHA) {
    throw new ArgumentError('alpha', `must be ≥ ${MIN_ALPHA}, got ${options.alpha}`, 'smaller α are not supported: the Clopper–Pearson bound is verified conservative only above it (docs/certificates.md)');
  }
  assertInteger('n0', options.n0, 1, MAX_SAMPLES);
  assertInteger('n', options.n, 1, MAX_SAMPLES);
}
