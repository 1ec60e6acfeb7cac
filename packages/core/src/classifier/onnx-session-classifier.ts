import { asyncDispose } from '../dispose.js';
import { AblateError, ArgumentError, ModelError } from '../errors.js';
import { quote } from '../quote.js';
import type { Shape } from '../shape.js';
import { argmaxRows, type BaseClassifier } from './base-classifier.js';
import { MAX_BATCH_SIZE } from '../limits.js';
import { checkLogitsOutput, checkModelInputShape, resolveModelIo, type ModelIo } from './model-io.js';

/** Fallback warnings already given (each once per process, whichever backend gives it). */
const warned = new Set<string>();

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
 * input); every call's output is checked — a tensor (`checkLogitsOutput`: [count, classes], float32/float64)
 * whose data is a Float32Array/Float64Array of exactly count·classes values, else a ModelError — and its argmax
 * taken into a reused buffer (`argmaxRows`, which refuses NaN and ambiguous infinite rows; a call made while
 * another is running gets its own array). Every tensor the run returned is freed. A call whose run ends after
 * `dispose()` rejects with ABLATE_BACKEND. Subclasses load the session and resolve its input and output
 * (`resolveModelIo`).
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
  /** classify calls awaiting the session's run. */
  private running = 0;

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

  /**
   * The `executionProviders` option of a subclass's `create`: `given` (default `[fallback]`) copied, each one of
   * `known`; an ArgumentError naming the field otherwise (`example` shows a valid list).
   */
  protected static providerList<P extends string>(given: readonly P[] | undefined, known: readonly string[], fallback: P, example: string): P[] {
    const providers = [...(given ?? [fallback])];
    if (providers.length === 0) throw new ArgumentError('executionProviders', 'must list at least one provider', `e.g. ${example}`);
    for (const p of providers) {
      if (!known.includes(p)) throw new ArgumentError('executionProviders', `unknown provider ${quote(p)}`, `use ${known.join(', ')}`);
    }
    return providers;
  }

  /** The `batchSize` option of a subclass's `create` (default 1000): an integer in [1, MAX_BATCH_SIZE], else an ArgumentError. */
  protected static batchSizeOption(given: number | undefined): number {
    const batchSize = given ?? 1000;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) throw new ArgumentError('batchSize', `must be an integer in [1, ${MAX_BATCH_SIZE}], got ${quote(batchSize)}`);
    return batchSize;
  }

  /** Gives `warn` the provider-fallback `message` once per process. */
  protected static warnOnce(warn: (message: string) => void, message: string): void {
    if (warned.has(message)) return;
    warned.add(message);
    warn(message);
  }

  /**
   * The model's input and output (`resolveModelIo`) of a session `create` just opened; a model with the wrong ones
   * releases that session (its native or wasm memory) before the ModelError reaches the caller.
   */
  protected static async sessionIo(session: OnnxSessionLike & Parameters<typeof resolveModelIo>[0], wanted: { inputName?: string; outputName?: string }): Promise<ModelIo> {
    try {
      return resolveModelIo(session, wanted);
    } catch (error) {
      await session.release().catch(() => undefined);
      throw error;
    }
  }

  /** Checks that the model's input takes [N, C′, H, W] (or [N, C′·H·W]) for the encoder's output shape. */
  checkInputShape(encodedShape: Shape): void {
    checkModelInputShape(this.inputShape, encodedShape, this.source, this.inputName);
  }

  async classify(input: Float32Array, count: number, encodedShape: Shape): Promise<Int32Array> {
    if (this.disposed) throw this.disposedError();
    const F = encodedShape[0] * encodedShape[1] * encodedShape[2];
    // Called directly (the engine always passes a valid batch): the runtime's own errors would be untyped.
    if (!Number.isInteger(count) || count < 0 || count * F > input.length) {
      throw new ArgumentError('count', `must be an integer in [0, ${Math.floor(input.length / F)}] (the rows of \`input\` of shape [${encodedShape.join(', ')}]), got ${quote(count)}`);
    }
    this.checkInputShape(encodedShape);
    const dims = this.inputShape.length === 2 ? [count, F] : [count, ...encodedShape];
    // Both runtimes read the input during run() (onnxruntime-web copies it into the wasm heap); the engine may
    // reuse `input` once the promise resolves.
    const tensor = new this.runtime.Tensor('float32', input.subarray(0, count * F), dims);
    // A call made while another is running gets an array of its own: the shared buffer would hand both callers
    // the predictions of whichever finished last (e.g. `Promise.all` of two calls on one instance).
    const own = this.running > 0;
    this.running++;
    let out: { readonly [name: string]: OnnxOutputTensor };
    try {
      out = await this.session.run({ [this.inputName]: tensor }, [this.outputName]);
    } catch (error) {
      // onnxruntime-node runs on a later tick: a dispose() in between makes its run throw "Session already disposed."
      if (this.disposed) throw this.disposedError();
      if (error instanceof AblateError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new AblateError('ABLATE_BACKEND', `classify: ${this.sessionName} failed to run ${this.source}: ${message.split('\n')[0]}`, { cause: error });
    } finally {
      this.running--;
    }
    try {
      // a run that ends after dispose(): its output is not used
      if (this.disposed) throw this.disposedError();
      const logits: unknown = out !== null && typeof out === 'object' ? out[this.outputName] : undefined;
      checkOutputTensor(logits, this.source, this.outputName);
      // Every call: the output must be [count, classes] of floats, or the votes would read past its end.
      checkLogitsOutput(logits.dims, logits.type, count, this.numClasses, this.source, this.outputName);
      checkOutputData(logits, count * this.numClasses, this.source, this.outputName);
      let predictions = own ? new Int32Array(count) : this.predictions;
      if (predictions.length < count) predictions = this.predictions = new Int32Array(Math.max(count, Math.min(this.preferredBatchSize, 65536)));
      return argmaxRows(logits.data, count, this.numClasses, predictions, this.source);
    } finally {
      // every tensor the session returned (fetches name one output; a session may return more) is freed
      if (out !== null && typeof out === 'object') for (const value of Object.values(out)) disposeQuietly(value);
    }
  }

  private disposedError(): AblateError {
    return new AblateError('ABLATE_BACKEND', `classify: the ${this.sessionName} session was disposed`);
  }

  /** Releases the session (idempotent); later `classify` calls, and those whose run has not ended, reject with ABLATE_BACKEND. */
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

/** Refuses a missing output, or one that is not a tensor (a `dims` array and a `type` string). */
function checkOutputTensor(value: unknown, source: string, outputName: string): asserts value is OnnxOutputTensor {
  const t = value as Partial<OnnxOutputTensor> | null | undefined;
  if (t === null || typeof t !== 'object' || !Array.isArray(t.dims) || typeof t.type !== 'string') {
    throw new ModelError('model', `${source} returned ${t === undefined ? 'no' : 'a non-tensor'} output "${outputName}"`, 'the model must return its logits as a float tensor [N, classes]');
  }
}

/** Refuses a tensor whose elements are not a Float32Array (float32) or Float64Array (float64) of exactly `length` values. */
function checkOutputData(t: OnnxOutputTensor, length: number, source: string, outputName: string): asserts t is OnnxOutputTensor & { data: Float32Array | Float64Array } {
  const data = t.data;
  const typed = t.type === 'float32' ? data instanceof Float32Array : data instanceof Float64Array;
  if (!typed || (data as Float32Array).length !== length) {
    const got = ArrayBuffer.isView(data) ? `a ${data.constructor.name} of ${(data as Float32Array).length} values` : Array.isArray(data) ? 'a plain array' : typeof data;
    throw new ModelError('model', `${source} returned output "${outputName}" of type ${t.type} whose data is ${got}; expected a ${t.type === 'float32' ? 'Float32Array' : 'Float64Array'} of ${length} values`, 'the tensor must hold one logit per input and class');
  }
}

/** Calls a returned value's `dispose()`, if it has one; a failure there must not hide the classify result or error. */
function disposeQuietly(value: unknown): void {
  const d = (value as { dispose?: unknown } | null | undefined)?.dispose;
  if (typeof d !== 'function') return;
  try {
    d.call(value);
  } catch {
    // nothing more to free
  }
}
