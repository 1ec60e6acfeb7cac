import gammaln from '@stdlib/math-base-special-gammaln';
import { clamp01, nextDown, nextUp, UNIT_ROUNDOFF } from '../math/float.js';
import { assertClosedInterval, assertInteger, assertOpenInterval } from '../math/validate.js';
import type { Rng } from '../rng.js';
import { features, type Shape } from '../shape.js';
import type { Perturbation, RobustnessBound } from './perturbation.js';
import type { PerturbedBatch } from './perturbed-batch.js';
import { ArgumentError } from '../errors.js';

/** Options of Lee et al. (2019) discrete noise. @category Plug-in authors */
export interface LeeNoiseOptions {
  /** K: size of the value alphabet (256 for 8-bit images, 2 for binarized). Inputs are snapped to it. */
  levels: number;
  /** κ: probability that a feature keeps its value; otherwise it takes a uniformly random *other* level. */
  keepProb: number;
}

const TWO_32 = 2 ** 32;

/**
 * Lee et al. (2019)'s discrete noise for L0: every feature (channels count separately) is kept with
 * probability κ, otherwise replaced by one of the other K − 1 levels uniformly. Inputs are snapped to the
 * alphabet {0, 1/(K−1), …, 1}.
 *
 * The keep decision compares one 32-bit draw with T = round(κ·2^32), so the realized keep probability is
 * exactly κ̂ = T/2^32; the bound is computed with κ̂ (|κ̂ − κ| ≤ 2^-33), so the certificate is exact for the
 * sampler that actually runs.
 * @category Plug-in authors
 */
export class LeeNoisePerturbation implements Perturbation {
  readonly type = 'lee-noise';
  readonly threatModel = 'l0-features' as const;
  readonly usesNull = false;
  readonly levels: number;
  readonly keepProb: number;
  /** κ̂, the keep probability the sampler realizes exactly. */
  readonly realizedKeepProb: number;
  private readonly threshold: number;
  private snapped: Int32Array = new Int32Array(0);

  constructor(options: LeeNoiseOptions) {
    assertInteger('levels', options.levels, 2, 65536);
    assertOpenInterval('keepProb', options.keepProb, 0, 1);
    this.levels = options.levels;
    this.keepProb = options.keepProb;
    this.threshold = Math.min(TWO_32 - 1, Math.max(1, Math.round(options.keepProb * TWO_32)));
    this.realizedKeepProb = this.threshold / TWO_32;
  }

  validate(_shape: Shape): void {}

  sample(x: Float32Array, shape: Shape, rng: Rng, out: PerturbedBatch, count: number, options: { sharedAcrossBatch?: boolean } = {}): void {
    const F = features(shape);
    const K = this.levels;
    const top = K - 1;
    if (this.snapped.length !== F) this.snapped = new Int32Array(F);
    const snapped = this.snapped;
    for (let i = 0; i < F; i++) snapped[i] = Math.round(clamp01(x[i]!) * top);
    const { values } = out;
    const T = this.threshold;
    // Exact uniform draw over the K − 1 other levels by rejection: accept v < limit, a multiple of K − 1.
    const limit = Math.floor(TWO_32 / top) * top;
    for (let s = 0; s < count; s++) {
      const offset = s * F;
      if (s > 0 && options.sharedAcrossBatch) {
        values.copyWithin(offset, 0, F);
        continue;
      }
      for (let i = 0; i < F; i++) {
        const level = snapped[i]!;
        let v = level;
        if (rng.uint32() >= T) {
          let u = rng.uint32();
          while (u >= limit) u = rng.uint32();
          v = u % top;
          if (v >= level) v++;
        }
        values[offset + i] = v / top;
      }
    }
  }

  bound(shape: Shape): RobustnessBound {
    return leeNoiseBound(features(shape), this.levels, this.realizedKeepProb);
  }

  describe(): string {
    return `lee-noise(K=${this.levels}, κ=${this.keepProb})`;
  }
}

/**
 * Region masses of the tight (Neyman–Pearson) bound for r differing features, grouped by t = u − v ∈ [−r, r]:
 *   P_x(t) = Σ_{u−v=t} C(r,u)·C(r−u,v)·a^u·b^v·c^(r−u−v),   P_x′(t) = P_x(−t),
 * with a = κ, b = (1−κ)/(K−1), c = 1 − a − b. Index t + r. Also returns a relative error bound.
 */
function regionMasses(r: number, a: number, b: number, c: number): { mass: Float64Array; relError: number } {
  const la = Math.log(a);
  const lb = Math.log(b);
  const lc = c > 0 ? Math.log(c) : -Infinity;
  const lf = new Float64Array(r + 1);
  for (let i = 0; i <= r; i++) lf[i] = gammaln(i + 1);
  const mass = new Float64Array(2 * r + 1);
  for (let u = 0; u <= r; u++) {
    for (let v = 0; u + v <= r; v++) {
      const w = r - u - v;
      if (w > 0 && c === 0) continue;
      const logP = lf[r]! - lf[u]! - lf[v]! - lf[w]! + u * la + v * lb + (w > 0 ? w * lc : 0);
      mass[u - v + r] += Math.exp(logP);
    }
  }
  // Each log term is a sum of O(1) quantities of size ≤ L with a few ulps of error each.
  const L = lf[r]! + r * (Math.abs(la) + Math.abs(lb) + (c > 0 ? Math.abs(lc) : 0)) + 8;
  const relError = 32 * UNIT_ROUNDOFF * L + 4 * (2 * r + 1) * UNIT_ROUNDOFF;
  return { mass, relError };
}

/**
 * The tight Lee-noise bound for d features, K levels, keep probability κ. `lower(p, r)` fills regions in order
 * of decreasing likelihood ratio P_x/P_x′ = (a/b)^t until their P_x mass reaches p (the last one fractionally)
 * and returns the P_x′ mass taken; `upper` fills in increasing order. Results are widened by the computed
 * relative error bound (down for lower, up for upper).
 * @category Plug-in authors
 */
export function leeNoiseBound(d: number, levels: number, keepProb: number): RobustnessBound {
  assertInteger('d', d, 1);
  assertInteger('levels', levels, 2);
  assertOpenInterval('keepProb', keepProb, 0, 1);
  const a = keepProb;
  const b = (1 - keepProb) / (levels - 1);
  const c = levels === 2 ? 0 : Math.max(0, 1 - a - b);
  const cache = new Map<number, { mass: Float64Array; relError: number }>();
  const massesFor = (r: number) => {
    let m = cache.get(r);
    if (!m) {
      if (cache.size > 256) cache.clear();
      m = regionMasses(r, a, b, c);
      cache.set(r, m);
    }
    return m;
  };
  // Order of t by decreasing P_x/P_x′ = (a/b)^t.
  const decreasing = a >= b;
  const fill = (p: number, r: number, worstFirst: boolean): { taken: number; relError: number } => {
    const { mass, relError } = massesFor(r);
    let remaining = p;
    let taken = 0;
    // worstFirst (for lower): regions where x′ is least likely relative to x come first.
    const startHigh = worstFirst === decreasing;
    for (let i = 0; i <= 2 * r && remaining > 0; i++) {
      const t = startHigh ? r - i : i - r;
      const px = mass[t + r]!;
      const pxPrime = mass[-t + r]!;
      if (px <= 0) continue;
      if (px >= remaining) {
        taken += pxPrime * (remaining / px);
        remaining = 0;
      } else {
        taken += pxPrime;
        remaining -= px;
      }
    }
    return { taken, relError };
  };
  const check = (p: number, rho: number) => {
    assertClosedInterval('p', p, 0, 1);
    assertInteger('rho', rho, 0);
    if (rho > d) throw new ArgumentError('rho', `must be ≤ d = ${d}, got ${rho}`);
  };
  return {
    threatModel: 'l0-features',
    unit: 'features',
    domain: 'integer',
    maxRadius: d,
    lower(p, rho) {
      check(p, rho);
      if (rho === 0) return p;
      const { taken, relError } = fill(p, rho, true);
      return clamp01(nextDown(taken * (1 - relError) - 4 * UNIT_ROUNDOFF));
    },
    upper(p, rho) {
      check(p, rho);
      if (rho === 0) return p;
      const { taken, relError } = fill(p, rho, false);
      return clamp01(nextUp(taken * (1 + relError) + 4 * UNIT_ROUNDOFF));
    },
  };
}
