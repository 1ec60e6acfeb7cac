import { ArgumentError } from '../errors.js';
import { assertInteger } from '../math/validate.js';
import type { Rng } from '../rng.js';
import type { Shape } from '../shape.js';
import { AblationList, enumeratedBound } from './enumerated.js';
import type { Enumeration, Perturbation, RobustnessBound } from './perturbation.js';
import type { PerturbedBatch } from './perturbed-batch.js';

/** Which bands vote: full-height columns, full-width rows, or square blocks (all with wrap-around). @category Plug-in authors */
export type BandOrientation = 'column' | 'row' | 'block';

/** Options of the `band` perturbation (config `{ "type": "band", "width": b, "orientation": … }`). @category Plug-in authors */
export interface BandOptions {
  /** b: band width in pixels (columns, rows, or the side of a b×b block). */
  width: number;
  /** `column` (default): T = W bands of b columns; `row`: T = H bands of b rows; `block`: T = H·W b×b blocks. */
  orientation?: BandOrientation;
}

/**
 * Column / row / block smoothing for patch attacks (Levine & Feizi, NeurIPS 2020, "(De)Randomized Smoothing for
 * Certifiable Defense against Patch Attacks"): ablation t keeps one band of b columns (rows) starting at column
 * (row) t, or one b×b block at position t, with wrap-around; everything else is NULL. An m×m patch meets at most
 * Δ(m) = m + b − 1 column bands (capped at W), and (m + b − 1)² blocks (each side capped at H, W).
 * The radius is the patch side m (unit "patch side").
 * @category Plug-in authors
 */
export class BandPerturbation implements Perturbation {
  readonly type = 'band';
  readonly threatModel = 'patch' as const;
  readonly usesNull = true;
  readonly width: number;
  readonly orientation: BandOrientation;
  private cache: { key: string; list: AblationList } | undefined;

  constructor(options: BandOptions) {
    assertInteger('width', options.width, 1);
    const orientation = options.orientation ?? 'column';
    if (!['column', 'row', 'block'].includes(orientation)) {
      throw new ArgumentError('orientation', `must be "column", "row" or "block", got ${JSON.stringify(orientation)}`);
    }
    this.width = options.width;
    this.orientation = orientation;
  }

  validate(shape: Shape): void {
    const [, H, W] = shape;
    if (H < 2 || W < 2) {
      throw new ArgumentError('type', `band smoothing needs a 2-D input (H, W ≥ 2); a ${shape.join('×')} input has no patches`, 'use { "type": "partition" } for 1-D inputs');
    }
    const limit = this.orientation === 'column' ? W : this.orientation === 'row' ? H : Math.min(H, W);
    const what = this.orientation === 'column' ? `W = ${W} columns` : this.orientation === 'row' ? `H = ${H} rows` : `the ${H}×${W} input`;
    if (this.width > limit) throw new ArgumentError('width', `b = ${this.width} exceeds ${what}`, `choose width ≤ ${limit}`);
  }

  enumeration(shape: Shape): Enumeration {
    return this.list(shape);
  }

  sample(x: Float32Array, shape: Shape, rng: Rng, out: PerturbedBatch, count: number, options: { sharedAcrossBatch?: boolean } = {}): void {
    this.list(shape).sample(x, shape, rng, out, count, options.sharedAcrossBatch ?? false);
  }

  bound(shape: Shape): RobustnessBound {
    const list = this.list(shape);
    return enumeratedBound({ threatModel: 'patch', unit: 'patch side', maxRadius: Math.min(shape[1], shape[2]), count: list.count, affected: list.affected });
  }

  describe(): string {
    return `band(${this.orientation}, b=${this.width})`;
  }

  /** Δ(m): the most ablations an m×m patch on an H×W input meets. */
  affected(m: number, H: number, W: number): number {
    if (m === 0) return 0;
    const b = this.width;
    const across = (n: number) => Math.min(m + b - 1, n);
    if (this.orientation === 'column') return across(W);
    if (this.orientation === 'row') return across(H);
    return across(H) * across(W);
  }

  private list(shape: Shape): AblationList {
    const [, H, W] = shape;
    const key = `${H}x${W}`;
    if (this.cache?.key !== key) {
      this.validate(shape);
      const b = this.width;
      const members: Int32Array[] = [];
      // Ablation order: column bands by first column, row bands by first row, blocks row-major by top-left corner.
      const region = (r0: number, rows: number, c0: number, cols: number) => {
        const m = new Int32Array(rows * cols);
        let k = 0;
        for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m[k++] = ((r0 + i) % H) * W + ((c0 + j) % W);
        return m.sort();
      };
      if (this.orientation === 'column') for (let c = 0; c < W; c++) members.push(region(0, H, c, b));
      else if (this.orientation === 'row') for (let r = 0; r < H; r++) members.push(region(r, b, 0, W));
      else for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) members.push(region(r, b, c, b));
      this.cache = { key, list: new AblationList(members, (m) => this.affected(m, H, W)) };
    }
    return this.cache.list;
  }
}
