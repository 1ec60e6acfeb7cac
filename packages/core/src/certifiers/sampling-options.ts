import { assertInteger, assertOpenInterval } from '../math/validate.js';

/** Options every sampling certifier takes (config names from the paper / Cohen et al.). */
export interface SamplingOptions {
  /** α: failure probability of the certificate, in (0, 1). */
  alpha: number;
  /** n0: samples used to select the top class ĉA. */
  n0: number;
  /** n: samples used to bound p_A. */
  n: number;
}

export function validateSampling(options: SamplingOptions): void {
  assertOpenInterval('alpha', options.alpha, 0, 1);
  assertInteger('n0', options.n0, 1);
  assertInteger('n', options.n, 1);
}
