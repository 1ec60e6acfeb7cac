import 'reflect-metadata';
import { inject, injectable } from 'inversify';
import { TOKENS } from '../config/tokens.js';
import type { BaseClassifier } from '../classifier/base-classifier.js';
import type { Certificate, Certifier } from '../certifiers/certifier.js';
import { predictFromCounts, type Prediction } from '../certifiers/predict.js';
import type { Encoder } from '../encoders/encoder.js';
import { encodedShape } from '../encoders/encoder.js';
import { ModelError } from '../errors.js';
import { assertInteger } from '../math/validate.js';
import type { Perturbation, RobustnessBound } from '../perturbations/perturbation.js';
import { PerturbedBatch } from '../perturbations/perturbed-batch.js';
import { Rng } from '../rng.js';
import { features, validateImage, type Image, type Shape } from '../shape.js';

/** Options of the smoothing engine (the config's `seed` and `batchSize`). */
export interface SmoothingOptions {
  /** Samples per classifier call; memory is O(batchSize · d), independent of n. Default 1000. */
  batchSize?: number;
  /** Seed of the random stream; with the input's index it fixes every draw. Default 0. */
  seed?: number;
}

/** Per-image options of `certify` / `predict`. */
export interface RunOptions {
  /** Index of the input in its dataset: selects an independent random stream (default 0). */
  index?: number;
}

/** Two sets of buffers, so that one batch is sampled and encoded while the previous one is classified. */
interface Slot {
  batch: PerturbedBatch;
  encoded: Float32Array;
}

/**
 * The smoothed classifier g(x) = argmax_i P(f(perturb(x)) = i) (paper eq. 1, with any perturbation).
 * It is the one place that walks the whole path perturbation → encoder → base classifier → votes → certifier.
 * Batches are streamed through two reusable buffers (sampling of batch i+1 overlaps inference of batch i),
 * so memory stays flat in n.
 *
 * @example
 * const rt = await createContainer(config);
 * const cert = await rt.smoothed.certify(image, { index: 0 }); // prediction, radius, pLower, nA, n
 * const pred = await rt.smoothed.predict(image, { index: 0 }); // prediction or null (abstain), pValue
 */
@injectable()
export class SmoothedClassifier {
  readonly batchSize: number;
  readonly seed: number;
  private slots: { shape: string; a: Slot; b: Slot } | undefined;
  private readonly bounds = new Map<string, RobustnessBound>();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    @inject(TOKENS.Perturbation) readonly perturbation: Perturbation,
    @inject(TOKENS.Encoder) readonly encoder: Encoder,
    @inject(TOKENS.BaseClassifier) readonly classifier: BaseClassifier,
    @inject(TOKENS.Certifier) readonly certifier: Certifier,
    @inject(TOKENS.SmoothingOptions) options: SmoothingOptions = {},
  ) {
    this.batchSize = options.batchSize ?? classifier.preferredBatchSize ?? 1000;
    this.seed = options.seed ?? 0;
    assertInteger('batchSize', this.batchSize, 1);
    assertInteger('seed', this.seed, -(2 ** 31), 2 ** 32 - 1);
  }

  /**
   * CERTIFY: the prediction and its certified radius, valid with probability ≥ 1 − α (see the certifier).
   */
  certify(x: Image, options: RunOptions = {}): Promise<Certificate> {
    return this.exclusive(async () => {
      const { sampler, bound } = await this.prepare(x, options);
      return this.certifier.certify(sampler, bound);
    });
  }

  /**
   * PREDICT (Cohen et al.): n samples, two-sided binomial test of the top two counts; abstains (prediction
   * null) when the p-value exceeds α. Returns a wrong class with probability ≤ α.
   */
  predict(x: Image, options: RunOptions = {}): Promise<Prediction> {
    return this.exclusive(async () => {
      const { sampler } = await this.prepare(x, options);
      const counts = await sampler(this.certifier.n);
      return predictFromCounts(counts, this.certifier.n, this.certifier.alpha);
    });
  }

  /** Per-class votes of `num` perturbed samples of x (exposed for custom certifiers and diagnostics). */
  votes(x: Image, num: number, options: RunOptions = {}): Promise<Uint32Array> {
    return this.exclusive(async () => {
      const { sampler } = await this.prepare(x, options);
      return sampler(num);
    });
  }

  /** Releases the base classifier's resources. */
  async dispose(): Promise<void> {
    await this.classifier.dispose();
  }

  /** Runs calls one at a time: they share the batch buffers. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async prepare(x: Image, options: RunOptions) {
    validateImage(x, 'x');
    const index = options.index ?? 0;
    assertInteger('index', index, 0);
    const key = x.shape.join('x');
    let bound = this.bounds.get(key);
    if (!bound) {
      // Once per input shape: validate, build the bound (it caches its own tables), check the model.
      this.perturbation.validate(x.shape);
      bound = this.perturbation.bound(x.shape);
      await this.classifier.checkInputShape(encodedShape(this.encoder, x.shape));
      this.bounds.set(key, bound);
    }
    const encShape = encodedShape(this.encoder, x.shape);
    const rng = new Rng(this.seed, index);
    const sampler = (num: number) => this.countVotes(x, encShape, rng, num);
    return { sampler, bound };
  }

  private buffers(shape: Shape, encShape: Shape) {
    const key = `${shape.join('x')}>${encShape.join('x')}`;
    if (this.slots?.shape !== key) {
      const make = (): Slot => ({ batch: new PerturbedBatch(shape, this.batchSize), encoded: new Float32Array(this.batchSize * features(encShape)) });
      this.slots = { shape: key, a: make(), b: make() };
    }
    return this.slots;
  }

  private async countVotes(x: Image, encShape: Shape, rng: Rng, num: number): Promise<Uint32Array> {
    assertInteger('num', num, 0);
    const numClasses = this.classifier.numClasses;
    const counts = new Uint32Array(numClasses);
    const { a, b } = this.buffers(x.shape, encShape);
    const fill = (slot: Slot, count: number) => {
      this.perturbation.sample(x.data, x.shape, rng, slot.batch, count);
      this.encoder.encode(slot.batch, count, slot.encoded);
    };
    let remaining = num;
    let current = a;
    let next = b;
    let count = Math.min(this.batchSize, remaining);
    if (count > 0) fill(current, count);
    while (count > 0) {
      remaining -= count;
      const inflight = this.classifier.classify(current.encoded, count, encShape);
      // Sample and encode the next batch while the backend works on this one.
      const nextCount = Math.min(this.batchSize, remaining);
      if (nextCount > 0) fill(next, nextCount);
      const predictions = await inflight;
      for (let i = 0; i < count; i++) {
        const cls = predictions[i]!;
        if (!(cls >= 0 && cls < numClasses)) {
          throw new ModelError('classify', `returned class ${cls}, outside [0, ${numClasses})`, 'check the model output width');
        }
        counts[cls]++;
      }
      [current, next] = [next, current];
      count = nextCount;
    }
    return counts;
  }
}
