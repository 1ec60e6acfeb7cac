import { ArgumentError, InputError } from '../errors.js';
import { assertInteger } from '../math/validate.js';
import type { Image, Shape } from '../shape.js';

/**
 * The dataset's own value grid: `levels` values v / (levels − 1), v = 0 … levels − 1 (MNIST: multiples of
 * 1/255). Attacks move pixels only between grid values, so an adversarial example saved as an 8-bit PNG is
 * exactly the example that was queried.
 * @category Plug-in authors
 */
export class PixelGrid {
  readonly top: number;

  constructor(readonly levels = 256) {
    assertInteger('levels', levels, 2, 65536);
    this.top = levels - 1;
  }

  /** Grid levels of an image; an InputError when a value is off the grid (more than 1e-4 of a step away). */
  toLevels(x: Image): Int32Array {
    const out = new Int32Array(x.data.length);
    for (let i = 0; i < out.length; i++) {
      const s = x.data[i]! * this.top;
      const v = Math.round(s);
      if (!(v >= 0 && v <= this.top) || Math.abs(s - v) > 1e-4) {
        throw new InputError(`x.data[${i}]`, `is ${x.data[i]}, not one of the ${this.levels} grid values v/${this.top} in [0, 1]`, 'attack images as the dataset stores them, or set the attack’s `levels`');
      }
      out[i] = v;
    }
    return out;
  }

  /**
   * The image of `levels`, taking unchanged values bit-exactly from `original` (so an unchanged pixel is the
   * dataset's own float) and changed ones as v / (levels − 1).
   */
  toImage(levels: Int32Array, originalLevels: Int32Array, original: Image, out?: Float32Array): Image {
    const data = out ?? new Float32Array(levels.length);
    for (let i = 0; i < levels.length; i++) data[i] = levels[i] === originalLevels[i] ? original.data[i]! : levels[i]! / this.top;
    return { data, shape: original.shape };
  }
}

/** Pixel locations (H·W; all C channels of a location count once) where `a` and `b` differ: the L0 distance. @category Plug-in authors */
export function changedLocations(a: ArrayLike<number>, b: ArrayLike<number>, shape: Shape): number {
  const [C, H, W] = shape;
  const d = H * W;
  if (a.length !== C * d || b.length !== C * d) throw new ArgumentError('image', `expected ${C * d} values`);
  let count = 0;
  for (let p = 0; p < d; p++) {
    for (let c = 0; c < C; c++) {
      if (a[c * d + p] !== b[c * d + p]) {
        count++;
        break;
      }
    }
  }
  return count;
}
