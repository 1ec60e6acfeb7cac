import 'reflect-metadata';
import { inject, injectable } from 'inversify';
import { TOKENS } from '../config/tokens.js';
import type { BaseClassifier } from '../classifier/base-classifier.js';
import type { Certificate, Certifier, VoteSampler } from '../certifiers/certifier.js';
import { predictFromCounts, type Prediction } from '../certifiers/predict.js';
import { predictSequential } from '../certifiers/sequential-predict.js';
import type { CheckScheduleOptions } from '../certifiers/check-schedule.js';
import type { Encoder } from '../encoders/encoder.js';
import { encodedShape } from '../encoders/encoder.js';
import { ModelError } from '../errors.js';
import { assertInteger } from '../math/validate.js';
import { MAX_BATCH_SIZE, MAX_SAMPLES } from '../limits.js';
import { assertBatchFits } from './batch-memory.js';
import type { Perturbation, RobustnessBound } from '../perturbations/perturbation.js';
import { PerturbedBatch } from '../perturbations/perturbed-batch.js';
import { Rng, SUBSTREAM } from '../rng.js';
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

export interface PredictOptions extends RunOptions {
  /** PREDICT's number of samples (default: the certifier's n); with `sequential`, the most it may draw. */
  n?: number;
  /** Sequential PREDICT (`predictSequential`): stop at the first of a geometric schedule of checks whose
   *  binomial test rejects, same α, at most n samples; an object sets the check schedule. Default false. */
  sequential?: boolean | CheckScheduleOptions;
  /** Draw from the image stream's `SUBSTREAM.confirm` instead of PREDICT's (an attack's confirming PREDICT,
   *  independent of every query of its search). Default false. */
  confirm?: boolean;
}

export interface CertifyAndPredictOptions extends RunOptions {
  /** PREDICT's number of samples (default: the certifier's n). */
  predictN?: number;
}

/** CERTIFY and PREDICT of one input, each from its own samples. */
export interface CertificateAndPrediction {
  certificate: Certificate;
  prediction: Prediction;
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
  private slots: { shape: string; capacity: number; a: Slot; b: Slot } | undefined;
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
    assertInteger('batchSize', this.batchSize, 1, MAX_BATCH_SIZE);
    assertInteger('seed', this.seed, -(2 ** 31), 2 ** 32 - 1);
  }

  /**
   * CERTIFY: the prediction and its certified radius, valid with probability ≥ 1 − α (see the certifier).
   */
  certify(x: Image, options: RunOptions = {}): Promise<Certificate> {
    return this.exclusive(async () => {
      const { sampler, bound } = await this.prepare(x, options, SUBSTREAM.certify);
      return this.certifier.certify(sampler, bound);
    });
  }

  /**
   * PREDICT (Cohen et al. 2019, Algorithm PREDICT): n samples (default the certifier's n), two-sided binomial
   * test of the top two counts at ½; abstains (prediction null) when the p-value exceeds the certifier's α.
   * Returns a class other than g(x) with probability ≤ α. Its samples come from the image's PREDICT substream,
   * independent of CERTIFY's, so the two procedures can be run on the same image with the same seed. With
   * `sequential`, the same test at a schedule of checks (α split by a union bound), stopping as soon as one
   * rejects, at most n samples.
   */
  predict(x: Image, options: PredictOptions = {}): Promise<Prediction> {
    return this.exclusive(async () => {
      const { sampler } = await this.prepare(x, options, options.confirm ? SUBSTREAM.confirm : SUBSTREAM.predict);
      const n = options.n ?? this.certifier.n;
      assertInteger('n', n, 1);
      if (options.sequential) {
        const schedule = typeof options.sequential === 'object' ? options.sequential : {};
        return predictSequential(sampler, { ...schedule, n, alpha: this.certifier.alpha });
      }
      return predictFromCounts(await sampler(n), n, this.certifier.alpha);
    });
  }

  /**
   * Both of Cohen et al.'s procedures on one input, each with its own fresh samples: CERTIFY (exactly what
   * `certify` returns) and PREDICT (exactly what `predict` with n = predictN returns). The paper's
   * "classification accuracy" is PREDICT's; the certified radii are CERTIFY's.
   */
  async certifyAndPredict(x: Image, options: CertifyAndPredictOptions = {}): Promise<CertificateAndPrediction> {
    const predictOptions: PredictOptions = options.index === undefined ? {} : { index: options.index };
    if (options.predictN !== undefined) {
      assertInteger('predictN', options.predictN, 1);
      predictOptions.n = options.predictN;
    }
    const certificate = await this.certify(x, options);
    const prediction = await this.predict(x, predictOptions);
    return { certificate, prediction };
  }

  /** Per-class votes of `num` perturbed samples of x (exposed for custom certifiers and diagnostics). */
  votes(x: Image, num: number, options: RunOptions = {}): Promise<Uint32Array> {
    return this.exclusive(async () => {
      const { sampler } = await this.prepare(x, options, SUBSTREAM.certify);
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

  private async prepare(x: Image, options: RunOptions, substream: number) {
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
    const rng = new Rng(this.seed, index, substream);
    const sampler: VoteSampler = (num: number) => this.countVotes(x, encShape, num, (batch, _first, count) => this.perturbation.sample(x.data, x.shape, rng, batch, count));
    // Capability, not type: a perturbation that can list its ablations gives certifiers exact counts over all T.
    const enumeration = this.perturbation.enumeration?.(x.shape);
    if (enumeration) {
      sampler.enumerate = async () => ({
        counts: await this.countVotes(x, encShape, enumeration.count, (batch, first, count) => enumeration.fill(x.data, x.shape, first, count, batch)),
        total: enumeration.count,
        affected: (rho) => enumeration.affected(rho),
      });
    }
    return { sampler, bound };
  }

  /** The two slots, sized by min(batchSize, samples needed) (grown when a later call needs more). */
  private buffers(shape: Shape, encShape: Shape, needed: number) {
    const key = `${shape.join('x')}>${encShape.join('x')}`;
    const capacity = Math.max(1, Math.min(this.batchSize, needed));
    if (this.slots?.shape !== key || this.slots.capacity < capacity) {
      assertBatchFits(shape, encShape, capacity);
      this.slots = undefined;
      const make = (): Slot => ({ batch: new PerturbedBatch(shape, capacity), encoded: new Float32Array(capacity * features(encShape)) });
      this.slots = { shape: key, capacity, a: make(), b: make() };
    }
    return this.slots;
  }

  /** Classifies `num` perturbed copies of x, written batch by batch by `draw` (rows [0, count) = copies first …). */
  private async countVotes(x: Image, encShape: Shape, num: number, draw: (batch: PerturbedBatch, first: number, count: number) => void): Promise<Uint32Array> {
    assertInteger('num', num, 0, MAX_SAMPLES);
    const numClasses = this.classifier.numClasses;
    const counts = new Uint32Array(numClasses);
    const { a, b } = this.buffers(x.shape, encShape, num);
    let drawn = 0;
    const fill = (slot: Slot, count: number) => {
      draw(slot.batch, drawn, count);
      drawn += count;
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
      if (!predictions || !(predictions.length >= count)) {
        throw new ModelError('classify', `returned ${predictions?.length ?? 'no'} predictions for a batch of ${count} inputs`, 'the classifier must return one class per input row');
      }
      for (let i = 0; i < count; i++) {
        const cls = predictions[i]!;
        if (!(cls >= 0 && cls < numClasses && Number.isInteger(cls))) {
          throw new ModelError('classify', `returned class ${cls}, not an integer in [0, ${numClasses})`, 'check the model output width');
        }
        counts[cls]++;
      }
      [current, next] = [next, current];
      count = nextCount;
    }
    return counts;
  }
}
