import { clamp01, nextDown, nextUp } from '../math/float.js';
import { phi, phiInverse } from '../math/statistics.js';
import { assertClosedInterval, assertPositive } from '../math/validate.js';
import type { Rng } from '../rng.js';
import { features, type Shape } from '../shape.js';
import type { Perturbation, RobustnessBound } from './perturbation.js';
import type { PerturbedBatch } from './perturbed-batch.js';

/** Options of Gaussian noise (Cohen et al. 2019). @category Plug-in authors */
export interface GaussianOptions {
  /** σ: standard deviation of the additive noise. */
  sigma: number;
}

/** Relative guard on Φ and Φ⁻¹ from @stdlib (accurate to ~1e-15). */
const NORMAL_GUARD = 1e-12;

/**
 * Additive isotropic Gaussian noise N(0, σ²I) (Cohen et al. 2019): the L2 threat model. Here to show that a
 * non-L0 scheme fits the same slots; its bound is Φ(Φ⁻¹(p) ∓ ρ/σ).
 * @category Plug-in authors
 */
export class GaussianPerturbation implements Perturbation {
  readonly type = 'gaussian';
  readonly threatModel = 'l2' as const;
  readonly usesNull = false;
  readonly sigma: number;

  constructor(options: GaussianOptions) {
    assertPositive('sigma', options.sigma);
    this.sigma = options.sigma;
  }

  validate(_shape: Shape): void {}

  sample(x: Float32Array, shape: Shape, rng: Rng, out: PerturbedBatch, count: number, options: { sharedAcrossBatch?: boolean } = {}): void {
    const F = features(shape);
    const { values } = out;
    for (let s = 0; s < count; s++) {
      const offset = s * F;
      if (s > 0 && options.sharedAcrossBatch) {
        values.copyWithin(offset, 0, F);
        continue;
      }
      for (let i = 0; i < F; i++) values[offset + i] = x[i]! + this.sigma * rng.normal();
    }
  }

  bound(_shape: Shape): RobustnessBound {
    return gaussianBound(this.sigma);
  }

  describe(): string {
    return `gaussian(σ=${this.sigma})`;
  }
}

/** Cohen et al.'s tight L2 bound: lower = Φ(Φ⁻¹(p) − ρ/σ), upper = Φ(Φ⁻¹(p) + ρ/σ). @category Plug-in authors */
export function gaussianBound(sigma: number): RobustnessBound {
  assertPositive('sigma', sigma);
  return {
    threatModel: 'l2',
    unit: 'l2',
    domain: 'real',
    // Φ⁻¹(p) < 38.5 for every double p < 1: no certificate can exceed 40σ.
    maxRadius: 40 * sigma,
    lower(p, rho) {
      assertClosedInterval('p', p, 0, 1);
      if (rho === 0) return p;
      return clamp01(nextDown(phi(phiInverse(p) - rho / sigma) * (1 - NORMAL_GUARD)));
    },
    upper(p, rho) {
      assertClosedInterval('p', p, 0, 1);
      if (rho === 0) return p;
      return clamp01(nextUp(phi(phiInverse(p) + rho / sigma) * (1 + NORMAL_GUARD)));
    },
  };
}
