import { clamp01, nextDown, nextUp } from '../math/float.js';
import { assertClosedInterval, assertInteger } from '../math/validate.js';
import type { Rng } from '../rng.js';
import { locations, type Shape } from '../shape.js';
import type { Enumeration, RobustnessBound, ThreatModel } from './perturbation.js';
import type { PerturbedBatch } from './perturbed-batch.js';

/**
 * The T ablations of an enumerating perturbation for one input shape: ablation t keeps the pixel locations
 * `members[t]` (all channels of a location together, the rest NULL, exactly the ablation encoding).
 * @category Plug-in authors
 */
export class AblationList implements Enumeration {
  readonly count: number;

  constructor(
    readonly members: readonly Int32Array[],
/** Δ(ρ): the most ablations (votes) a change of ρ pixels can touch. */
    readonly affected: (rho: number) => number,
  ) {
    this.count = members.length;
  }

  fill(x: Float32Array, shape: Shape, first: number, count: number, out: PerturbedBatch): void {
    assertInteger('first', first, 0, this.count);
    assertInteger('count', count, 0, Math.min(this.count - first, out.capacity));
    for (let s = 0; s < count; s++) this.write(x, shape, first + s, out, s);
  }

  /** Writes ablation t of x into row `row` of `out`. */
  write(x: Float32Array, shape: Shape, t: number, out: PerturbedBatch, row: number): void {
    const d = locations(shape);
    const C = shape[0];
    const F = C * d;
    const { kept, values } = out;
    const maskOffset = row * d;
    const valueOffset = row * F;
    kept.fill(0, maskOffset, maskOffset + d);
    values.fill(0, valueOffset, valueOffset + F);
    for (const p of this.members[t]!) {
      kept[maskOffset + p] = 1;
      for (let c = 0; c < C; c++) values[valueOffset + c * d + p] = x[c * d + p]!;
    }
  }

  /** One uniformly chosen ablation per row (or one for the whole batch): the smoothing distribution itself. */
  sample(x: Float32Array, shape: Shape, rng: Rng, out: PerturbedBatch, count: number, shared: boolean): void {
    const d = locations(shape);
    const F = shape[0] * d;
    for (let s = 0; s < count; s++) {
      if (s > 0 && shared) {
        out.kept.copyWithin(s * d, 0, d);
        out.values.copyWithin(s * F, 0, F);
      } else this.write(x, shape, rng.int(this.count), out, s);
    }
  }
}

/**
 * The bound of a perturbation that is uniform over T ablations of which an attack of radius ρ touches at most
 * Δ(ρ): every untouched ablation classifies x′ exactly as x, so |p_i(x′) − p_i(x)| ≤ Δ(ρ)/T for every class i.
 * With sampled votes this gives a probabilistic certificate (cohen, lecuyer); the vote-gap certifier uses Δ on
 * the exact counts instead.
 * @category Plug-in authors
 */
export function enumeratedBound(options: { threatModel: ThreatModel; unit: string; maxRadius: number; count: number; affected: (rho: number) => number }): RobustnessBound {
  const { count, affected } = options;
  const check = (p: number, rho: number) => {
    assertClosedInterval('p', p, 0, 1);
    assertInteger('rho', rho, 0, options.maxRadius);
  };
  return {
    threatModel: options.threatModel,
    unit: options.unit,
    domain: 'integer',
    maxRadius: options.maxRadius,
    lower(p, rho) {
      check(p, rho);
      return rho === 0 ? p : clamp01(nextDown(p - affected(rho) / count));
    },
    upper(p, rho) {
      check(p, rho);
      return rho === 0 ? p : clamp01(nextUp(p + affected(rho) / count));
    },
  };
}
