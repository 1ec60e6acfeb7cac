import { ArgumentError, ModelError } from '../errors.js';
import type { Shape } from '../shape.js';
import { asyncDispose } from '../dispose.js';
import type { BaseClassifier } from './base-classifier.js';

/** A base classifier from a plain function: for tests, toy models and models computed in JS. @category Plug-in authors */
export interface FunctionClassifierOptions {
  numClasses: number;
  /** Encoded shape [C′, H, W] the function expects; checked at start-up when given. */
  inputShape?: Shape;
  /** Classifies one encoded row (a view; do not keep it). Returns the class index. */
  predict: (row: Float32Array, index: number) => number;
  preferredBatchSize?: number;
}

/**
 * Adapts a plain JavaScript function to the BaseClassifier interface: for hand-written or pure-JS models,
 * synthetic classifiers in tests and demos. Rows are passed as subarray views (no copies).
 * @category Plug-in authors
 */
export class FunctionClassifier implements BaseClassifier {
  readonly type = 'function';
  readonly numClasses: number;
  readonly preferredBatchSize?: number;
  private out = new Int32Array(0);

  constructor(private readonly options: FunctionClassifierOptions) {
    if (!Number.isInteger(options.numClasses) || options.numClasses < 2) {
      throw new ArgumentError('numClasses', `must be an integer ≥ 2, got ${options.numClasses}`);
    }
    this.numClasses = options.numClasses;
    this.preferredBatchSize = options.preferredBatchSize;
  }

  checkInputShape(encodedShape: Shape): void {
    const want = this.options.inputShape;
    if (want && want.some((v, i) => v !== encodedShape[i])) {
      throw new ModelError('inputShape', `the classifier expects [${want.join(', ')}] but the encoder produces [${encodedShape.join(', ')}]`, 'match the encoder to the model (multichannel doubles the channels)');
    }
  }

  async classify(input: Float32Array, count: number, encodedShape: Shape): Promise<Int32Array> {
    const F = encodedShape[0] * encodedShape[1] * encodedShape[2];
    if (this.out.length < count) this.out = new Int32Array(count);
    for (let i = 0; i < count; i++) this.out[i] = this.options.predict(input.subarray(i * F, (i + 1) * F), i);
    return this.out;
  }

  /** Nothing to release (a plain function). */
  dispose(): void {}

  /** `await using`: the same as `dispose()`. */
  async [asyncDispose](): Promise<void> {
    this.dispose();
  }
}
