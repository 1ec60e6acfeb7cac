import type { Rng } from '../rng.js';
import type { Shape } from '../shape.js';
import type { PerturbedBatch } from './perturbed-batch.js';

/**
 * What an attacker may change, and in which unit the certified radius is counted:
 * - `l0-locations`: number of pixel locations (all channels of a location count once; the paper's ‖·‖₀),
 * - `l0-features`: number of features (channels count separately; Lee et al. 2019),
 * - `l2`: Euclidean norm of the change,
 * - `patch`: any values inside one m×m square of locations; the radius is the side m (Levine & Feizi 2020b),
 * - any other name a plug-in gives its own threat model (e.g. `l1`).
 * @category Plug-in authors
 */
export type ThreatModel = KnownThreatModel | (string & {});

/**
 * The threat models ablate's own perturbations certify against. `ThreatModel` is open: a plug-in may name its
 * own (e.g. `l1`), and its certificates carry that name.
 * @category Plug-in authors
 */
export type KnownThreatModel = 'l0-locations' | 'l0-features' | 'l2' | 'patch';

/**
 * A perturbation's robustness bound for inputs of one shape. For any base classifier f and class i,
 * if p_i(x) ≥ p then for every x′ with ‖x − x′‖ ≤ ρ (in the threat model's norm):
 *   lower(p, ρ) ≤ p_i(x′)   and, if p_i(x) ≤ p,   p_i(x′) ≤ upper(p, ρ).
 * Both are monotone in ρ (lower non-increasing, upper non-decreasing), which the certifiers' search relies on,
 * and both are rounded the conservative way (lower down, upper up).
 * @category Plug-in authors
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
 * @category Plug-in authors
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
  /**
   * Optional capability: the smoothing distribution is uniform over a finite list of T ablations that can be
   * enumerated in a fixed order (feature partitions, bands). Certifiers that need exact counts (vote-gap) ask the
   * vote sampler for them; sampling certifiers ignore it. Undefined when this perturbation only samples.
   */
  enumeration?(shape: Shape): Enumeration;
  /** A short human description with parameters, e.g. `ablation(k=45)`. */
  describe(): string;
}

/**
 * A perturbation's finite list of T ablations for inputs of one shape, in a fixed order that depends on nothing
 * but the shape and the perturbation's options (never on the batch size or a random stream).
 * @category Plug-in authors
 */
export interface Enumeration {
  /** T: the number of ablations; `sample` draws one of them uniformly. */
  readonly count: number;
  /** Writes ablations first … first + count − 1 of x into rows [0, count) of `out`. */
  fill(x: Float32Array, shape: Shape, first: number, count: number, out: PerturbedBatch): void;
  /**
   * Δ(ρ): the most of the T ablations whose retained locations an attack of radius ρ (in the bound's unit) can
   * touch, so the most votes it can move. Integer, non-decreasing, Δ(0) = 0. The vote-gap certificate is
   * n_A − Δ(ρ) vs n_B + Δ(ρ) (docs/certificates.md).
   */
  affected(rho: number): number;
}
