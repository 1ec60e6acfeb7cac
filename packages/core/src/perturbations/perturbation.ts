import type { Rng } from '../rng.js';
import type { Shape } from '../shape.js';
import type { PerturbedBatch } from './perturbed-batch.js';

/**
 * What an attacker may change, and in which unit the certified radius is counted:
 * - `l0-locations`: number of pixel locations (all channels of a location count once; the paper's ‖·‖₀),
 * - `l0-features`: number of features (channels count separately; Lee et al. 2019),
 * - `l2`: Euclidean norm of the change.
 */
export type ThreatModel = 'l0-locations' | 'l0-features' | 'l2';

/**
 * A perturbation's robustness bound for inputs of one shape. For any base classifier f and class i,
 * if p_i(x) ≥ p then for every x′ with ‖x − x′‖ ≤ ρ (in the threat model's norm):
 *   lower(p, ρ) ≤ p_i(x′)   and, if p_i(x) ≤ p,   p_i(x′) ≤ upper(p, ρ).
 * Both are monotone in ρ (lower non-increasing, upper non-decreasing), which the certifiers' search relies on,
 * and both are rounded the conservative way (lower down, upper up).
 */
export interface RobustnessBound {
  readonly threatModel: ThreatModel;
  /** Unit of ρ, for reports: "pixels", "features" or "l2". */
  readonly unit: string;
  /** `integer` for L0 radii, `real` for L2. */
  readonly domain: 'integer' | 'real';
  /** The largest radius the bound can speak about (beyond it nothing can be certified). */
  readonly maxRadius: number;
  /** Smallest probability of a class at any x′ within radius ρ, given it is ≥ p at x (rounded down). */
  lower(p: number, rho: number): number;
  /** Largest probability of a class at any x′ within radius ρ, given it is ≤ p at x (rounded up). */
  upper(p: number, rho: number): number;
}

/**
 * A smoothing distribution: draws perturbed copies of one input into a reusable batch buffer (seeded), and
 * owns the robustness bound that makes certificates for it. Adding a smoothing scheme = implementing this.
 */
export interface Perturbation {
  /** Registered type name, e.g. `ablation`. */
  readonly type: string;
  readonly threatModel: ThreatModel;
  /** True when samples contain NULL (ablated) locations, marked 0 in `PerturbedBatch.kept`. */
  readonly usesNull: boolean;
  /** Throws a typed error if this perturbation cannot be applied to inputs of this shape (e.g. k > d). */
  validate(shape: Shape): void;
  /**
   * Writes `count` independent perturbed copies of x into rows [0, count) of `out`, drawing from `rng`.
   * `options.sharedAcrossBatch`: one random draw for the whole batch (the paper's training mode), where supported.
   */
  sample(x: Float32Array, shape: Shape, rng: Rng, out: PerturbedBatch, count: number, options?: { sharedAcrossBatch?: boolean }): void;
  /** The bound (Theorem 1 for ablation) for inputs of this shape. */
  bound(shape: Shape): RobustnessBound;
  /** A short human description with parameters, e.g. `ablation(k=45)`. */
  describe(): string;
}
