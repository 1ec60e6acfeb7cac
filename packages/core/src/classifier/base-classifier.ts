import { ModelError } from '../errors.js';
import type { Shape } from '../shape.js';

/**
 * The model f being smoothed: classifies a batch of encoded inputs. Backends (ONNX Runtime, tfjs) implement
 * this; they never know which perturbation produced the batch.
 * @category Plug-in authors
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
   * keep a reference to `input` after the promise resolves. The engine calls it once at a time (with
   * imagesInFlight, the BatchCoalescer merges the calls' rows into one call), and assumes a row's class depends on
   * that row only (inference mode). A promise that never settles cannot be interrupted: the calls whose rows it
   * holds, and those queued behind it, wait (a call still waiting for a lane can be aborted), and `dispose()`
   * waits for it.
   */
  classify(input: Float32Array, count: number, encodedShape: Shape): Promise<ArrayLike<number>>;
  /** Releases native resources. */
  dispose(): void | Promise<void>;
}

/**
 * Argmax over rows of a [count, c] logit matrix, into `out` (no per-row allocation). Ties of finite maxima go
 * to the lowest index. A row must have a well-defined argmax: no NaN, and a maximum that is finite or a single
 * +Infinity (−Infinity entries are fine, e.g. log-probabilities of 0). Otherwise — any NaN, all −Infinity,
 * or +Infinity twice — no prediction is made: a ModelError names `model` and how many rows were broken.
 * @category Plug-in authors
 */
export function argmaxRows(logits: ArrayLike<number>, count: number, numClasses: number, out: Int32Array, model = 'the model'): Int32Array {
  for (let r = 0; r < count; r++) {
    const base = r * numClasses;
    let best = -1;
    let bestValue = -Infinity;
    let nan = false;
    for (let j = 0; j < numClasses; j++) {
      const v = logits[base + j]!;
      if (v > bestValue) {
        bestValue = v;
        best = j;
      } else if (v !== v) nan = true;
    }
    if (nan || best < 0 || (bestValue === Infinity && !uniqueMax(logits, base, numClasses, best))) {
      throw nonFiniteLogits(logits, count, numClasses, model);
    }
    out[r] = best;
  }
  return out;
}

/** Whether +Infinity at `best` is the only +Infinity of its row. */
function uniqueMax(logits: ArrayLike<number>, base: number, numClasses: number, best: number): boolean {
  for (let j = best + 1; j < numClasses; j++) if (logits[base + j] === Infinity) return false;
  return true;
}

/** Whether a row has a well-defined argmax (see argmaxRows). */
function rowIsValid(logits: ArrayLike<number>, base: number, numClasses: number): boolean {
  let max = -Infinity;
  let infinities = 0;
  for (let j = 0; j < numClasses; j++) {
    const v = logits[base + j]!;
    if (Number.isNaN(v)) return false;
    if (v === Infinity) infinities++;
    if (v > max) max = v;
  }
  return max > -Infinity && infinities <= 1;
}

/** The error for a batch with broken rows (the slow path: counts them and shows the first). */
function nonFiniteLogits(logits: ArrayLike<number>, count: number, numClasses: number, model: string): ModelError {
  let bad = 0;
  let first = -1;
  for (let r = 0; r < count; r++) {
    if (rowIsValid(logits, r * numClasses, numClasses)) continue;
    bad++;
    if (first < 0) first = r;
  }
  const shown = Math.min(numClasses, 10);
  const values = Array.from({ length: shown }, (_, j) => String(logits[first * numClasses + j])).join(', ');
  return new ModelError(
    'model',
    `${model} returned logits without a valid argmax in ${bad} of ${count} rows of a batch (first: row ${first} = [${values}${numClasses > shown ? ', …' : ''}]); no prediction was made`,
    'a prediction needs logits without NaN whose maximum is finite or a single +Infinity: check the model weights and the input normalization',
  );
}
