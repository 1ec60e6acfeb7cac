import { asyncDispose } from '../dispose.js';
import { AblateError } from '../errors.js';
import type { Shape } from '../shape.js';
import { argmaxRows, type BaseClassifier } from './base-classifier.js';
import { checkLogitsOutput, checkModelInputShape, type ModelIo } from './model-io.js';

/** One output of an ONNX session's `run` (onnxruntime-node's and onnxruntime-web's `Tensor`). @category Plug-in authors */
export interface OnnxOutputTensor {
  /** The dimensions the model returned. */
  readonly dims: readonly number[];
  /** Element type, e.g. `float32`. */
  readonly type: string;
  /** The elements, row-major. */
  readonly data: unknown;
  /** Frees the tensor's memory. */
  dispose(): void;
}

/**
 * The part of an ONNX Runtime `InferenceSession` that OnnxSessionClassifier runs: onnxruntime-node's and
 * onnxruntime-web's sessions both fit (two packages with the same API; core imports neither).
 * @category Plug-in authors
 */
export interface OnnxSessionLike {
  /** Runs the model on `feeds` (input name → tensor) and returns the outputs named in `fetches`. */
  run(feeds: { readonly [name: string]: unknown }, fetches: readonly string[]): Promise<{ readonly [name: string]: OnnxOutputTensor }>;
  /** Releases the session's native or wasm resources. */
  release(): Promise<void>;
}

/**
 * The part of an ONNX Runtime module namespace (`import * as ort from 'onnxruntime-node'` or `'onnxruntime-web'`)
 * that OnnxSessionClassifier uses: its tensor class.
 * @category Plug-in authors
 */
export interface OnnxRuntimeLike {
  /** `ort.Tensor`: a float32 tensor over `data` with dimensions `dims`. */
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
}

/**
 * The BaseClassifier of every ONNX backend (@ablate/backend-onnx on onnxruntime-node, @ablate/backend-web on
 * onnxruntime-web): one classify loop for both runtimes, which are passed in (`ort` and a session), so that core
 * imports neither. A batch goes in as one float32 tensor ([count, C′, H, W], or [count, C′·H·W] for a flat model
 * input); every call's output is checked (`checkLogitsOutput`) and its argmax taken into a reused buffer
 * (`argmaxRows`, which refuses NaN and ambiguous infinite rows). Subclasses load the session and resolve its
 * input and output (`resolveModelIo`).
 * @category Plug-in authors
 */
export abstract class OnnxSessionClassifier implements BaseClassifier {
  /** Registered type name, e.g. `onnx`. */
  abstract readonly type: string;
  readonly preferredBatchSize: number;
  readonly numClasses: number;
  /** The model input the batches are fed to. */
  readonly inputName: string;
  /** The model output read as logits. */
  readonly outputName: string;
  private readonly inputShape: readonly (number | string)[];
  private predictions = new Int32Array(0);
  private disposed = false;

  /**
   * @param runtime the ONNX Runtime module (`ort`) whose `Tensor` feeds `session`
   * @param io the model's resolved input and output (`resolveModelIo(session, options)`)
   * @param source the model's path or URL, for messages
   * @param sessionName names the session in the error after `dispose`, e.g. `ONNX` ("the ONNX session was disposed")
   */
  protected constructor(
    private readonly runtime: OnnxRuntimeLike,
    private readonly session: OnnxSessionLike,
    io: ModelIo,
    batchSize: number,
    /** The model's path or URL (or `<model bytes (N bytes)>`). */
    readonly source: string,
    private readonly sessionName: string,
  ) {
    this.preferredBatchSize = batchSize;
    this.numClasses = io.numClasses;
    this.inputName = io.inputName;
    this.outputName = io.outputName;
    this.inputShape = io.inputShape;
  }

  /** Checks that the model's input takes [N, C′, H, W] (or [N, C′·H·W]) for the encoder's output shape. */
  checkInputShape(encodedShape: Shape): void {
    checkModelInputShape(this.inputShape, encodedShape, this.source, this.inputName);
  }

  async classify(input: Float32Array, count: number, encodedShape: Shape): Promise<Int32Array> {
    if (this.disposed) throw new AblateError('ABLATE_BACKEND', `classify: the ${this.sessionName} session was disposed`);
    const F = encodedShape[0] * encodedShape[1] * encodedShape[2];
    const dims = this.inputShape.length === 2 ? [count, F] : [count, ...encodedShape];
    // Both runtimes read the input during run() (onnxruntime-web copies it into the wasm heap); the engine may
    // reuse `input` once the promise resolves.
    const tensor = new this.runtime.Tensor('float32', input.subarray(0, count * F), dims);
    const out = await this.session.run({ [this.inputName]: tensor }, [this.outputName]);
    const logits = out[this.outputName]!;
    try {
      // Every call: the output must be [count, classes] of floats, or the votes would read past its end.
      checkLogitsOutput(logits.dims, logits.type, count, this.numClasses, this.source, this.outputName);
      if (this.predictions.length < count) this.predictions = new Int32Array(Math.max(count, Math.min(this.preferredBatchSize, 65536)));
      argmaxRows(logits.data as Float32Array, count, this.numClasses, this.predictions, this.source);
    } finally {
      logits.dispose();
    }
    return this.predictions;
  }

  /** Releases the session (idempotent); later `classify` calls reject with ABLATE_BACKEND. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }

  /** `await using classifier = await …Classifier.create(…)`: the same as `dispose()`. */
  [asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
