import type { BaseClassifier } from '../classifier/base-classifier.js';
import type { Certificate, Certifier, CheckProgress, VoteSampler } from '../certifiers/certifier.js';
import { predictFromCounts, type Prediction } from '../certifiers/predict.js';
import { predictSequential } from '../certifiers/sequential-predict.js';
import type { CheckScheduleOptions } from '../certifiers/check-schedule.js';
import type { Encoder } from '../encoders/encoder.js';
import { encodedShape } from '../encoders/encoder.js';
import { AblateError, AbortError, ArgumentError, DisposedError, isAbortSignal, ModelError, throwIfAborted } from '../errors.js';
import { assertInteger } from '../math/validate.js';
import { MAX_BATCH_SIZE, MAX_IMAGES_IN_FLIGHT, MAX_SAMPLES } from '../limits.js';
import { assertBatchFits } from './batch-memory.js';
import { BatchCoalescer } from './batch-coalescer.js';
import type { Perturbation, RobustnessBound } from '../perturbations/perturbation.js';
import { PerturbedBatch } from '../perturbations/perturbed-batch.js';
import { Rng, SUBSTREAM } from '../rng.js';
import { asyncDispose } from '../dispose.js';
import { features, validateImage, type Image, type Shape } from '../shape.js';

/** Options of the smoothing engine (the config's `seed` and `batchSize`). @category App authors */
export interface SmoothingOptions {
  /** Samples per classifier call; memory is O(batchSize · d), independent of n. Default 1000. */
  batchSize?: number;
  /** Seed of the random stream; with the input's index it fixes every draw. Default 0. */
  seed?: number;
  /**
   * Calls (images) that may run at once, default 1 (one at a time). Above 1 their classifier requests are
   * merged into shared batches of up to batchSize rows (BatchCoalescer): a sequential certifier's small early
   * checks of several images fill one backend call. Results are unchanged (each call draws from its own
   * index's stream); memory is imagesInFlight buffer sets. At most MAX_IMAGES_IN_FLIGHT.
   */
  imagesInFlight?: number;
}

/** Per-image options of `certify` / `predict` / `votes` / `certifyAndPredict`. @category App authors */
export interface RunOptions {
  /** Index of the input in its dataset: selects an independent random stream (default 0). */
  index?: number;
  /**
   * Cancels the call: checked before every batch, so an abort is honoured once the batch being classified
   * returns; the call then rejects with an AbortError (code `ABORTED`). A signal already aborted, or one that aborts
   * while the call waits for a lane (imagesInFlight calls already running), rejects at once. Must be an AbortSignal
   * (an object with `aborted` and add/removeEventListener).
   * The classifier stays usable: every call draws from its own index's stream, so later calls are unaffected.
   */
  signal?: AbortSignal;
  /** Called after every batch (and every check of a sequential procedure) with where the call stands; it runs
   *  synchronously between batches, so keep it cheap; an exception thrown by it rejects the call. */
  onProgress?: (progress: RunProgress) => void;
}

/**
 * Where a `certify` / `predict` / `votes` / `certifyAndPredict` call stands (RunOptions.onProgress), shaped like
 * the attacks' AttackProgress: a stage and the samples spent, plus, for sequential procedures, the last check.
 * @category App authors
 */
export interface RunProgress {
  /** What is being drawn: CERTIFY's selection or estimation samples, an enumeration of all ablations (vote-gap),
   *  PREDICT's samples, or `votes`. */
  stage: 'selection' | 'estimation' | 'enumeration' | 'predict' | 'votes';
  /** Base-classifier evaluations done so far in this call. */
  samples: number;
  /** The most this call may spend: n0 + n for Cohen and Lecuyer, maxSamples for sequential, T for vote-gap, n
   *  for PREDICT (both added up for certifyAndPredict); a sequential call may stop well before it. */
  planned: number;
  /** Sequential procedures: the last check made (1-based) and the number of checks in the schedule. */
  check?: number;
  checks?: number;
  /** Sequential certifier: confidence bounds on p_A at the last check (L = best lower bound so far, U = upper). */
  pLower?: number;
  pUpper?: number;
  /** Sequential certifier: r(L), the radius certified so far, and r(U), the most it could still certify (null: none). */
  radiusLower?: number | null;
  radiusUpper?: number | null;
  /** Sequential PREDICT: the binomial test's p-value at the last check. */
  pValue?: number;
}

/** One call's cancellation and progress state, threaded through the samplers. */
interface Call {
  signal?: AbortSignal;
  onProgress?: (progress: RunProgress) => void;
  stage: RunProgress['stage'];
  /** Samples of earlier parts (certifyAndPredict's CERTIFY while PREDICT runs). */
  offset: number;
  samples: number;
  planned: number;
  check?: Partial<RunProgress>;
}

/** Options of `predict`: the image's index, the sample count and whether to test sequentially. @category App authors */
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

/** Options of `certifyAndPredict`: the image's index and PREDICT's sample count. @category App authors */
export interface CertifyAndPredictOptions extends RunOptions {
  /** PREDICT's number of samples (default: the certifier's n). */
  predictN?: number;
}

/** CERTIFY and PREDICT of one input, each from its own samples. @category App authors */
export interface CertificateAndPrediction {
  certificate: Certificate;
  prediction: Prediction;
}

/** Two sets of buffers, so that one batch is sampled and encoded while the previous one is classified. */
interface Slot {
  batch: PerturbedBatch;
  encoded: Float32Array;
}

/** One call's pair of slots, for one input shape and up to `capacity` samples per batch. */
interface SlotPair {
  shape: string;
  capacity: number;
  a: Slot;
  b: Slot;
}

/**
 * The smoothed classifier g(x) = argmax_i P(f(perturb(x)) = i) (paper eq. 1, with any perturbation).
 * It is the one place that walks the whole path perturbation → encoder → base classifier → votes → certifier.
 * Batches are streamed through two reusable buffers (sampling of batch i+1 overlaps inference of batch i),
 * so memory stays flat in n. Calls run one at a time, or up to `imagesInFlight` at once with their batches
 * merged (SmoothingOptions); each can be cancelled with a `signal` and watched with `onProgress` (RunOptions).
 *
 * @example
 * const rt = await createContainer(config);
 * const cert = await rt.smoothed.certify(image, { index: 0 }); // prediction, radius, pLower, nA, n
 * const pred = await rt.smoothed.predict(image, { index: 0 }); // prediction or null (abstain), pValue
 * @category App authors
 */
export class SmoothedClassifier {
  readonly batchSize: number;
  readonly seed: number;
  /** Calls that may run at once (SmoothingOptions.imagesInFlight). */
  readonly imagesInFlight: number;
  /** Merges the classify requests of calls running at once (present when imagesInFlight > 1). */
  readonly coalescer: BatchCoalescer | undefined;
  /** Slot pairs not in use by a call (at most imagesInFlight exist). */
  private readonly freeSlots: SlotPair[] = [];
  private readonly bounds = new Map<string, RobustnessBound>();
  /** Calls holding a lane, and the calls waiting for one (first in, first out). */
  private running = 0;
  private readonly waiting: Array<{ take: () => void; fail: (error: unknown) => void }> = [];
  /** Every call not yet settled (dispose waits for them). */
  private readonly unsettled = new Set<Promise<unknown>>();
  private disposing: Promise<void> | undefined;

  constructor(
    readonly perturbation: Perturbation,
    readonly encoder: Encoder,
    readonly classifier: BaseClassifier,
    readonly certifier: Certifier,
    options: SmoothingOptions = {},
  ) {
    this.batchSize = options.batchSize ?? classifier.preferredBatchSize ?? 1000;
    this.seed = options.seed ?? 0;
    this.imagesInFlight = options.imagesInFlight ?? 1;
    assertInteger('batchSize', this.batchSize, 1, MAX_BATCH_SIZE);
    assertInteger('seed', this.seed, -(2 ** 31), 2 ** 32 - 1);
    assertInteger('imagesInFlight', this.imagesInFlight, 1, MAX_IMAGES_IN_FLIGHT);
    this.coalescer = this.imagesInFlight > 1 ? new BatchCoalescer(classifier, this.batchSize) : undefined;
  }

  /**
   * CERTIFY: the prediction and its certified radius, valid with probability ≥ 1 − α (see the certifier).
   * Progress: stages `selection` and `estimation` (or `enumeration`), planned n0 + n; the sequential certifier
   * adds its check and bounds.
   */
  certify(x: Image, options: RunOptions = {}): Promise<Certificate> {
    return this.run(options, 'selection', async (call) => {
      const { sampler, bound } = await this.prepare(x, options, SUBSTREAM.certify, call);
      call.planned += this.certifier.deterministic && sampler.enumerate ? 0 : this.certifier.n0 + this.certifier.n;
      return wellShaped(await this.certifier.certify(sampler, bound, { report: (check: CheckProgress) => this.reportCheck(call, check) }), this.certifier.type, this.classifier.numClasses);
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
    return this.run(options, 'predict', (call) => this.predictIn(call, x, options));
  }

  /**
   * Both of Cohen et al.'s procedures on one input, each with its own fresh samples: CERTIFY (exactly what
   * `certify` returns) and PREDICT (exactly what `predict` with n = predictN returns). The paper's
   * "classification accuracy" is PREDICT's; the certified radii are CERTIFY's. Progress counts both: planned is
   * CERTIFY's n0 + n plus PREDICT's n.
   */
  certifyAndPredict(x: Image, options: CertifyAndPredictOptions = {}): Promise<CertificateAndPrediction> {
    const predictOptions: PredictOptions = options.index === undefined ? {} : { index: options.index };
    if (options.predictN !== undefined) {
      try {
        assertInteger('predictN', options.predictN, 1);
      } catch (error) {
        return Promise.reject(error);
      }
      predictOptions.n = options.predictN;
    }
    return this.run(options, 'selection', async (call) => {
      const predictN = predictOptions.n ?? this.certifier.n;
      const { sampler, bound } = await this.prepare(x, options, SUBSTREAM.certify, call);
      call.planned = (this.certifier.deterministic && sampler.enumerate ? call.planned : this.certifier.n0 + this.certifier.n) + predictN;
      const certificate = wellShaped(await this.certifier.certify(sampler, bound, { report: (check: CheckProgress) => this.reportCheck(call, check) }), this.certifier.type, this.classifier.numClasses);
      Object.assign(call, { stage: 'predict', offset: call.offset + call.samples, samples: 0, planned: call.offset + call.samples + predictN, check: undefined });
      const prediction = await this.predictIn(call, x, predictOptions);
      return { certificate, prediction };
    });
  }

  /** Per-class votes of `num` perturbed samples of x (exposed for custom certifiers and diagnostics). */
  votes(x: Image, num: number, options: RunOptions = {}): Promise<Uint32Array> {
    return this.run(options, 'votes', async (call) => {
      const { sampler } = await this.prepare(x, options, SUBSTREAM.certify, call);
      call.planned = num;
      return sampler(num);
    });
  }

  /**
   * Releases the base classifier's resources. A call in progress stops after its current batch and rejects with
   * a DisposedError (code `ABLATE_DISPOSED`); calls queued for a lane reject with it at once, later calls too; the
   * model is released once the running calls' batches have returned. Idempotent.
   */
  dispose(): Promise<void> {
    if (!this.disposing) {
      // calls still waiting for a lane hold no batch: they reject at once; running ones after their current batch
      for (const waiter of this.waiting.splice(0)) waiter.fail(new DisposedError('the smoothed classifier'));
      this.disposing = Promise.allSettled([...this.unsettled]).then(async () => {
        await this.classifier.dispose();
      });
    }
    return this.disposing;
  }

  /** `await using smoothed = …`: the same as `dispose()`. */
  [asyncDispose](): Promise<void> {
    return this.dispose();
  }

  private async predictIn(call: Call, x: Image, options: PredictOptions): Promise<Prediction> {
    const n = options.n ?? this.certifier.n;
    assertInteger('n', n, 1);
    call.planned = Math.max(call.planned, call.offset + n);
    const { sampler } = await this.prepare(x, options, options.confirm ? SUBSTREAM.confirm : SUBSTREAM.predict, call);
    if (options.sequential) {
      const schedule = typeof options.sequential === 'object' ? options.sequential : {};
      const report = ({ check, checks, pValue }: { check: number; checks: number; pValue: number }) => {
        call.check = { check, checks, pValue };
        this.emit(call);
      };
      return predictSequential(sampler, { ...schedule, n, alpha: this.certifier.alpha, report });
    }
    return predictFromCounts(await sampler(n), n, this.certifier.alpha);
  }

  private reportCheck(call: Call, check: CheckProgress): void {
    call.check = { ...check };
    this.emit(call);
  }

  private emit(call: Call): void {
    if (!call.onProgress) return;
    const samples = call.offset + call.samples;
    call.onProgress({ stage: call.stage, samples, planned: Math.max(call.planned, samples), ...call.check });
  }

  /**
   * Runs `task` once a lane is free (imagesInFlight lanes; first come, first served), refusing it when aborted or
   * disposed by then.
   */
  private run<T>(options: RunOptions, stage: RunProgress['stage'], task: (call: Call) => Promise<T>): Promise<T> {
    const { signal, onProgress } = options;
    try {
      if (signal !== undefined && !isAbortSignal(signal)) throw new ArgumentError('signal', 'must be an AbortSignal', 'pass controller.signal of an AbortController');
      if (onProgress !== undefined && typeof onProgress !== 'function') throw new ArgumentError('onProgress', 'must be a function');
      this.checkRunnable(signal);
    } catch (error) {
      return Promise.reject(error);
    }
    const call: Call = { signal, onProgress, stage, offset: 0, samples: 0, planned: 0 };
    const result = this.lane(signal).then(async () => {
      try {
        this.checkRunnable(signal);
        return await task(call);
      } finally {
        const next = this.waiting.shift();
        if (next) next.take();
        else this.running--;
      }
    });
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.unsettled.add(settled);
    void settled.then(() => this.unsettled.delete(settled));
    return result;
  }

  /**
   * Resolves once this call holds one of the imagesInFlight lanes (handed over in arrival order). A call whose
   * signal aborts while it waits leaves the queue and rejects at once (AbortError): it holds no lane and no batch.
   */
  private lane(signal: AbortSignal | undefined): Promise<void> {
    if (this.running < this.imagesInFlight) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiting.indexOf(entry);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(new AbortError(signal?.reason));
      };
      const entry = {
        take: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        fail: (error: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  /** Throws a DisposedError once `dispose()` was called, an AbortError once the call's signal aborted. */
  private checkRunnable(signal: AbortSignal | undefined): void {
    if (this.disposing) throw new DisposedError('the smoothed classifier');
    throwIfAborted(signal);
  }

  private async prepare(x: Image, options: RunOptions, substream: number, call: Call) {
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
    const sampler: VoteSampler = (num: number, phase?: 'selection' | 'estimation') => {
      if (call.stage === 'selection' || call.stage === 'estimation') call.stage = phase ?? 'estimation';
      return this.countVotes(x, encShape, num, call, (batch, _first, count) => this.perturbation.sample(x.data, x.shape, rng, batch, count));
    };
    // Capability, not type: a perturbation that can list its ablations gives certifiers exact counts over all T.
    const enumeration = this.perturbation.enumeration?.(x.shape);
    if (enumeration) {
      if (this.certifier.deterministic && call.stage === 'selection') call.planned += enumeration.count;
      sampler.enumerate = async () => {
        if (call.stage === 'selection' || call.stage === 'estimation') call.stage = 'enumeration';
        return {
          counts: await this.countVotes(x, encShape, enumeration.count, call, (batch, first, count) => enumeration.fill(x.data, x.shape, first, count, batch)),
          total: enumeration.count,
          affected: (rho) => enumeration.affected(rho),
        };
      };
    }
    return { sampler, bound };
  }
  /**
   * A slot pair for one countVotes, sized by min(batchSize, samples needed): a free pair reused (grown when this
   * call needs more), so at most imagesInFlight pairs exist. Given back with `releaseBuffers`.
   */
  private takeBuffers(shape: Shape, encShape: Shape, needed: number): SlotPair {
    const key = `${shape.join('x')}>${encShape.join('x')}`;
    const capacity = Math.max(1, Math.min(this.batchSize, needed));
    const free = this.freeSlots.pop();
    if (free && free.shape === key && free.capacity >= capacity) return free;
    assertBatchFits(shape, encShape, capacity, this.imagesInFlight);
    const make = (): Slot => ({ batch: new PerturbedBatch(shape, capacity), encoded: new Float32Array(capacity * features(encShape)) });
    return { shape: key, capacity, a: make(), b: make() };
  }

  private releaseBuffers(pair: SlotPair): void {
    this.freeSlots.push(pair);
  }

  /** Classifies `num` perturbed copies of x, written batch by batch by `draw` (rows [0, count) = copies first …). */
  private async countVotes(x: Image, encShape: Shape, num: number, call: Call, draw: (batch: PerturbedBatch, first: number, count: number) => void): Promise<Uint32Array> {
    assertInteger('num', num, 0, MAX_SAMPLES);
    const numClasses = this.classifier.numClasses;
    const counts = new Uint32Array(numClasses);
    const pair = this.takeBuffers(x.shape, encShape, num);
    try {
      return await this.countInto(counts, pair, encShape, num, call, draw);
    } finally {
      this.releaseBuffers(pair);
    }
  }

  /** countVotes' loop over batches, in the call's own slot pair. */
  private async countInto(counts: Uint32Array, { a, b }: SlotPair, encShape: Shape, num: number, call: Call, draw: (batch: PerturbedBatch, first: number, count: number) => void): Promise<Uint32Array> {
    const numClasses = this.classifier.numClasses;
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
      // Abort and dispose are honoured here, between batches: the batch in flight has returned, so the buffers are
      // free and the backend is idle when the call rejects.
      this.checkRunnable(call.signal);
      remaining -= count;
      const request = this.coalescer?.submit(current.encoded, count, encShape);
      const inflight = request ? request.result : this.classifier.classify(current.encoded, count, encShape);
      request?.result.catch(() => undefined); // awaited below, after `sent` and the next batch's sampling
      // Sample and encode the next batch while the backend works on this one (merged: once the call holding this
      // batch has started, not before it, which would keep the backend idle while every image samples).
      const nextCount = Math.min(this.batchSize, remaining);
      try {
        if (request && nextCount > 0) await request.sent;
        if (nextCount > 0) fill(next, nextCount);
      } catch (error) {
        // the request in flight still reads `current` (a coalescer may not have copied it yet): let it finish
        // before the slots are given back to another call
        await inflight.catch(() => undefined);
        throw error;
      }
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
      call.samples += count;
      this.emit(call);
      [current, next] = [next, current];
      count = nextCount;
    }
    return counts;
  }
}

/**
 * A certifier's output, checked before anyone reads it as a certificate (a plug-in certifier is code ablate did not
 * write): the prediction null or a class of the model, a radius exactly when there is a prediction, finite and
 * ≥ 0, pLower a probability, nA ≤ n and samples counts. Anything else is an error (code `ABLATE_CERTIFIER`) naming
 * the certifier type and the field, never a row.
 */
function wellShaped(c: Certificate, type: string, numClasses: number): Certificate {
  const bad = (field: string, message: string) =>
    new AblateError('ABLATE_CERTIFIER', `certifier "${type}" returned ${field} ${message}`, { field: `certificate.${field}`, hint: 'a certifier must return a prediction (a class or null), a finite radius ≥ 0 exactly when it predicts, pLower in [0, 1] and integer counts' });
  const isCount = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0;
  if (!c || typeof c !== 'object') throw bad('', `${String(c)} instead of a certificate`);
  if (c.prediction !== null && !(isCount(c.prediction) && c.prediction < numClasses)) throw bad('prediction', `${String(c.prediction)}, not null or a class of the model (${numClasses} classes)`);
  if (c.prediction === null ? c.radius !== null : !(typeof c.radius === 'number' && Number.isFinite(c.radius) && c.radius >= 0)) {
    throw bad('radius', `${String(c.radius)} with prediction ${String(c.prediction)} (a finite radius ≥ 0 with a prediction, null without)`);
  }
  if (!(typeof c.pLower === 'number' && c.pLower >= 0 && c.pLower <= 1)) throw bad('pLower', `${String(c.pLower)}, not a probability`);
  for (const k of ['nA', 'n', 'samples'] as const) if (c[k] !== undefined && !isCount(c[k])) throw bad(k, `${String(c[k])}, not a count`);
  if (c.nA > c.n) throw bad('nA', `${c.nA} > n = ${c.n}`);
  return c;
}
