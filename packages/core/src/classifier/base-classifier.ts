import type { Shape } from '../shape.js';

/**
 * The model f being smoothed: classifies a batch of encoded inputs. Backends (ONNX Runtime, tfjs) implement
 * this; they never know which perturbation produced the batch.
 */
export interface BaseClassifier {
  /** Registered type name, e.g. `onnx`. */
  readonly type: string;
  /** Number of classes c (length of the logit vector). */
  readonly numClasses: number;
  /** Batch size the backend prefers; the engine streams batches of this size unless told otherwise. */
  readonly preferredBatchSize?: number;
  /**
   * Checks at start-up that the model accepts encoded inputs of shape [C′, H, W]; throws a ModelError naming
   * the mismatch otherwise (so a wrong model fails before the first batch, not mid-run).
   */
  checkInputShape(encodedShape: Shape): void | Promise<void>;
  /**
   * Predicted class (argmax of the logits) for rows [0, count) of `input`, laid out [count, C′, H, W].
   * The returned array may be reused by the next call; read it before calling again. The backend must not
   * keep a reference to `input` after the promise resolves.
   */
  classify(input: Float32Array, count: number, encodedShape: Shape): Promise<ArrayLike<number>>;
  /** Releases native resources. */
  dispose(): void | Promise<void>;
}

/**
 * Argmax over rows of a [count, c] logit matrix, into `out` (no per-row allocation). Ties go to the lowest
 * index; a row containing NaN yields the first NaN-free maximum or 0.
 */
export function argmaxRows(logits: ArrayLike<number>, count: number, numClasses: number, out: Int32Array): Int32Array {
  for (let r = 0; r < count; r++) {
    const base = r * numClasses;
    let best = 0;
    let bestValue = -Infinity;
    for (let j = 0; j < numClasses; j++) {
      const v = logits[base + j]!;
      if (v > bestValue) {
        bestValue = v;
        best = j;
      }
    }
    out[r] = best;
  }
  return out;
}
