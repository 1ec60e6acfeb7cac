import { ArgumentError } from '../errors.js';
import { assertInteger } from '../math/validate.js';
import { Rng } from '../rng.js';
import { locations, type Shape } from '../shape.js';
import { AblationList, enumeratedBound } from './enumerated.js';
import type { Enumeration, Perturbation, RobustnessBound } from './perturbation.js';
import type { PerturbedBatch } from './perturbed-batch.js';

/** Options of the `partition` perturbation (config `{ "type": "partition", "parts": T, "layout": …, "seed"? }`). @category Plug-in authors */
export interface PartitionOptions {
  /** T: number of disjoint parts the d pixel locations are split into (1 ≤ T ≤ d). */
  parts: number;
  /** `stride` (default): location i (row-major) is in part i mod T. `random`: location π(j) is in part j mod T for a
   *  permutation π drawn from `seed`. Both give parts of ⌊d/T⌋ or ⌈d/T⌉ locations. */
  layout?: 'stride' | 'random';
  /** Seed of the random layout (default 0); ignored by `stride`. */
  seed?: number;
}

/**
 * Feature partition aggregation (Hammoudeh & Lowd 2023), the deterministic L0 relative of randomized ablation:
 * the d locations are split into T fixed disjoint parts; ablation t keeps part t (the rest NULL). Changing ρ
 * locations touches at most ρ parts, so at most ρ of the T votes move: Δ(ρ) = min(ρ, T).
 * Enumerable (vote-gap certifier: exact, no α); `sample` draws a part uniformly, so sampling certifiers work too.
 * @category Plug-in authors
 */
export class PartitionPerturbation implements Perturbation {
  readonly type = 'partition';
  readonly threatModel = 'l0-locations' as const;
  readonly usesNull = true;
  readonly parts: number;
  readonly layout: 'stride' | 'random';
  readonly seed: number;
  private cache: { d: number; list: AblationList } | undefined;

  constructor(options: PartitionOptions) {
    assertInteger('parts', options.parts, 1);
    const layout = options.layout ?? 'stride';
    if (layout !== 'stride' && layout !== 'random') throw new ArgumentError('layout', `must be "stride" or "random", got ${JSON.stringify(layout)}`);
    const seed = options.seed ?? 0;
    assertInteger('seed', seed, -(2 ** 31), 2 ** 32 - 1);
    this.parts = options.parts;
    this.layout = layout;
    this.seed = seed;
  }

  validate(shape: Shape): void {
    const d = locations(shape);
    if (this.parts > d) {
      throw new ArgumentError('parts', `T = ${this.parts} parts exceed the d = ${d} pixel locations of a ${shape.join('×')} input`, `choose parts ≤ ${d}`);
    }
  }

  /** The part of each location (length d). */
  partOf(shape: Shape): Int32Array {
    this.validate(shape);
    const d = locations(shape);
    const T = this.parts;
    const part = new Int32Array(d);
    if (this.layout === 'stride') {
      for (let i = 0; i < d; i++) part[i] = i % T;
    } else {
      // Fisher–Yates from a dedicated stream of the layout seed: π(j) gets part j mod T.
      const perm = Int32Array.from({ length: d }, (_, i) => i);
      const rng = new Rng(this.seed, 0x9a7);
      for (let i = d - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const t = perm[i]!;
        perm[i] = perm[j]!;
        perm[j] = t;
      }
      for (let j = 0; j < d; j++) part[perm[j]!] = j % T;
    }
    return part;
  }

  enumeration(shape: Shape): Enumeration {
    return this.list(shape);
  }

  sample(x: Float32Array, shape: Shape, rng: Rng, out: PerturbedBatch, count: number, options: { sharedAcrossBatch?: boolean } = {}): void {
    this.list(shape).sample(x, shape, rng, out, count, options.sharedAcrossBatch ?? false);
  }

  bound(shape: Shape): RobustnessBound {
    const list = this.list(shape);
    return enumeratedBound({ threatModel: 'l0-locations', unit: 'pixels', maxRadius: locations(shape), count: list.count, affected: list.affected });
  }

  describe(): string {
    return `partition(T=${this.parts}, ${this.layout}${this.layout === 'random' ? `, seed=${this.seed}` : ''})`;
  }

  private list(shape: Shape): AblationList {
    const d = locations(shape);
    if (this.cache?.d !== d) {
      const part = this.partOf(shape);
      const T = this.parts;
      const sizes = new Int32Array(T);
      for (let i = 0; i < d; i++) sizes[part[i]!]++;
      const members = Array.from({ length: T }, (_, t) => new Int32Array(sizes[t]!));
      const fill = new Int32Array(T);
      for (let i = 0; i < d; i++) {
        const t = part[i]!;
        members[t]![fill[t]!++] = i;
      }
      this.cache = { d, list: new AblationList(members, (rho) => Math.min(rho, T)) };
    }
    return this.cache.list;
  }
}
