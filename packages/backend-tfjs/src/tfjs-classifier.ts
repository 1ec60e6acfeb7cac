import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { resolve } from 'node:path';
import { AblateError, ArgumentError, argmaxRows, asyncDispose, ModelError, quote, type BaseClassifier, type Shape } from '@ablate/core';
import { modelFiles } from './model-files.js';
import { selectBackend, TFJS_BACKENDS, type TfjsBackendName } from './tfjs-backends.js';

/** Options of `TfjsClassifier.create` (the `tfjs` plug-in passes the config's, plus `baseDir` and `warn`). */
export interface TfjsClassifierOptions {
  /** Folder (or model.json path) of a tfjs LayersModel or GraphModel, relative to `baseDir`. */
  model: string;
  /** Backend order of preference. Default ["tensorflow", "wasm", "cpu"]. */
  backends?: readonly TfjsBackendName[];
  /**
   * Tensor layout the model takes. Our batches are NCHW ([N, C, H, W], like PyTorch/ONNX); tfjs convolutions
   * want NHWC, so by default (`"NHWC"`) each batch is transposed once, here, before the model. Use `"NCHW"` for a
   * model that takes channels-first input (e.g. a converted PyTorch graph).
   */
  layout?: 'NHWC' | 'NCHW';
  /** Samples per `classify` call. Default 256. */
  batchSize?: number;
  baseDir?: string;
  /** Where non-fatal problems go (e.g. a backend fallback); default `console.warn`. */
  warn?: (message: string) => void;
}

type AnyModel = LayersModel | GraphModel;

/**
 * Rows [0, count) of an NCHW batch (our layout, like PyTorch/ONNX) as a tensor in `layout`. The one place where
 * tensors change layout: classification and `trainTfjs` both go through it. Call inside tf.tidy.
 */
export function toLayout(input: Float32Array, count: number, encodedShape: Shape, layout: 'NHWC' | 'NCHW'): tf.Tensor4D {
  const [C, H, W] = encodedShape;
  const nchw = tf.tensor4d(input.subarray(0, count * C * H * W), [count, C, H, W]);
  return layout === 'NHWC' ? tf.transpose(nchw, [0, 2, 3, 1]) : nchw;
}

/**
 * A BaseClassifier backed by TensorFlow.js. Loads LayersModel and GraphModel folders (model.json + weights),
 * converts our NCHW batches to the model's layout in `toModelLayout` (the one place that does), and disposes
 * every intermediate tensor so memory stays flat over long runs.
 */
export class TfjsClassifier implements BaseClassifier {
  readonly type = 'tfjs';
  readonly preferredBatchSize: number;
  private predictions = new Int32Array(0);
  private disposed = false;
  /** classify calls awaiting their logits. */
  private running = 0;

  private constructor(
    private readonly model: AnyModel,
    readonly numClasses: number,
    private readonly inputShape: readonly (number | null)[],
    readonly layout: 'NHWC' | 'NCHW',
    /** The tfjs backend in use: `tensorflow`, `wasm` or `cpu`. */
    readonly backend: TfjsBackendName,
    batchSize: number,
    readonly source: string,
  ) {
    this.preferredBatchSize = batchSize;
  }

  /** Selects a tfjs backend, loads the LayersModel or GraphModel and reads its input shape and classes. */
  static async create(options: TfjsClassifierOptions): Promise<TfjsClassifier> {
    const warn = options.warn ?? ((m: string) => console.warn(m));
    const order = options.backends ?? TFJS_BACKENDS;
    const { backend, skipped } = await selectBackend(order);
    if (skipped.length && order[0] !== backend && !(order[0] === 'tensorflow' && skipped.length === 1 && /Cannot find (module|package)/.test(skipped[0]!))) {
      warn(`@ablate/backend-tfjs: using "${backend}"; skipped ${skipped.join('; ')}`);
    }
    const path: unknown = options.model;
    if (typeof path !== 'string' || path.length === 0) {
      throw new ArgumentError('model', `must be the path of a model folder or model.json, got ${quote(path)}`, 'a tfjs model is several files (model.json and weights): pass their folder');
    }
    const source = resolve(options.baseDir ?? process.cwd(), path);
    const handler = modelFiles(source);
    const format = await handler.format();
    let model: AnyModel;
    try {
      // tfjs-layers is loaded only for a LayersModel (and by trainTfjs); a GraphModel needs tfjs-converter alone.
      model = format === 'graph-model' ? await loadGraphModel(handler) : await (await import('@tensorflow/tfjs-layers')).loadLayersModel(handler);
    } catch (error) {
      if (error instanceof AblateError) throw error;
      throw new ModelError('model', `tfjs cannot load ${source}: ${(error as Error).message.split('\n')[0]}`);
    }
    const inShape = (model.inputs[0]!.shape ?? []).map((d) => (d === -1 ? null : d)) as (number | null)[];
    let outShape: (number | null)[] = (model.outputs[0]!.shape ?? []).map((d) => (d === -1 ? null : d));
    if (outShape.length !== 2 || typeof outShape[1] !== 'number') {
      // Graph models often declare no output shape: run one zero input through to learn it.
      if (inShape.length < 2 || inShape.slice(1).some((d) => d === null)) {
        model.dispose();
        throw new ModelError('model', `${source} declares neither its output shape nor a fixed input shape`, 'export the model with a static input shape');
      }
      outShape = tf.tidy(() => (model.predict(tf.zeros([1, ...(inShape.slice(1) as number[])])) as tf.Tensor).shape);
    }
    const classes = outShape.length === 2 ? outShape[1] : undefined;
    if (typeof classes !== 'number' || classes < 2) {
      model.dispose();
      throw new ModelError('model', `${source} must output logits of shape [N, classes], it declares [${outShape.join(', ')}]`);
    }
    return new TfjsClassifier(model, classes, inShape, options.layout ?? 'NHWC', backend, options.batchSize ?? 256, source);
  }

  /** The model input shape a batch of encoded shape [C, H, W] becomes after the layout conversion. */
  private modelShape(encodedShape: Shape): number[] {
    const [C, H, W] = encodedShape;
    return this.layout === 'NHWC' ? [H, W, C] : [C, H, W];
  }

  checkInputShape(encodedShape: Shape): void {
    const want = this.modelShape(encodedShape);
    const dims = this.inputShape;
    if (dims.length === 4 && want.every((v, i) => dims[i + 1] === null || dims[i + 1] === v)) return;
    throw new ModelError(
      'model',
      `${this.source} takes input of shape [${dims.map((d) => d ?? 'N').join(', ')}], but the encoder produces [N, ${encodedShape.join(', ')}] (NCHW), which is [N, ${want.join(', ')}] in the ${this.layout} layout`,
      'match the encoder (multichannel doubles the channels) and the "layout" option to the model',
    );
  }

  private toModelLayout(input: Float32Array, count: number, encodedShape: Shape): tf.Tensor4D {
    return toLayout(input, count, encodedShape, this.layout);
  }

  async classify(input: Float32Array, count: number, encodedShape: Shape): Promise<Int32Array> {
    if (this.disposed) throw new AblateError('ABLATE_BACKEND', 'classify: the tfjs model was disposed');
    const logits = tf.tidy(() => {
      const x = this.toModelLayout(input, count, encodedShape);
      return this.model.predict(x) as tf.Tensor;
    });
    // A call made while another is running gets an array of its own: the shared buffer would hand both callers
    // the predictions of whichever finished last (e.g. `Promise.all` of two calls on one instance).
    const own = this.running > 0;
    this.running++;
    try {
      // Every call: the output must be [count, classes], or the votes would read past its end. The argmax is
      // taken here, on the downloaded logits (count · classes floats), so that NaN/±Infinity are caught.
      const shape = logits.shape;
      if (shape.length !== 2 || shape[0] !== count || shape[1] !== this.numClasses) {
        throw new ModelError('model', `${this.source} returned logits of shape [${shape.join(', ')}] for a batch of ${count} inputs; expected [${count}, ${this.numClasses}]`, 'the model must return one row of logits per input, as wide as its declared class count');
      }
      const data = await logits.data();
      let predictions = own ? new Int32Array(count) : this.predictions;
      if (predictions.length < count) predictions = this.predictions = new Int32Array(Math.max(count, Math.min(this.preferredBatchSize, 65536)));
      return argmaxRows(data as Float32Array, count, this.numClasses, predictions, this.source);
    } finally {
      this.running--;
      logits.dispose();
    }
  }

  /** Number of live tfjs tensors (to check that memory does not grow). */
  static liveTensors(): number {
    return tf.memory().numTensors;
  }

  /** Disposes the model's weights (idempotent); later `classify` calls reject with ABLATE_BACKEND. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.model.dispose();
  }

  /** `await using classifier = await TfjsClassifier.create(…)`: the same as `dispose()`. */
  async [asyncDispose](): Promise<void> {
    this.dispose();
  }
}
