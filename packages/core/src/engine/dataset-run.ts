import type { Certifier } from '../certifiers/certifier.js';
import type { Dataset } from '../dataset/dataset.js';
import { AbortError, ArgumentError, ConfigError, InputError, isAbortSignal, throwIfAborted } from '../errors.js';
import { assertInteger } from '../math/validate.js';
import { inFlightInOrder } from './in-flight.js';
import type { RunProgress, SmoothedClassifier } from './smoothed-classifier.js';

/** PREDICT's outcome inside a certify row (`certify --predict`): its own n samples, nA and nB the top two counts. @category App authors */
export interface PredictField {
  prediction: number | null;
  pValue: number;
  nA: number;
  nB: number;
  n: number;
}

/** A certify row, exactly as `ablate certify` writes it. `predict` is present when the run has PREDICT. @category App authors */
export interface CertifyRow {
  index: number;
  label: number;
  prediction: number | null;
  radius: number | null;
  correct: boolean;
  pLower: number;
  nA: number;
  /** Deterministic (vote-gap) rows: the runner-up's votes (lowest class index among tied runners-up). */
  nB?: number;
  n: number;
  /** Base-classifier evaluations spent on this image (selection + estimation; T for vote-gap). */
  samples: number;
  /** Present (true) for deterministic certificates (vote-gap): never wrong, no α. */
  deterministic?: true;
  predict?: PredictField;
  /** Wall-clock seconds of this image's computation (the one field that differs between runs; with imagesInFlight > 1
   *  the images' times overlap, so their sum exceeds the run's wall time). */
  seconds: number;
}

/** The keys of a certify row, in order (the CLI's sidecar records them; a resume checks every row has exactly these). @category App authors */
export const CERTIFY_ROW_KEYS = ['index', 'label', 'prediction', 'radius', 'correct', 'pLower', 'nA', 'n', 'samples', 'seconds'] as const;

/**
 * The keys of a certify row of a run: deterministic certifiers (vote-gap) add `nB` after `nA` and
 * `deterministic` after `samples`, and with PREDICT, `predict` stands just before `seconds`.
 * @category App authors
 */
export function certifyRowKeys(options: { predict: boolean; deterministic: boolean }): readonly string[] {
  const keys = CERTIFY_ROW_KEYS.slice(0, -1).flatMap((k) => (k === 'nA' && options.deterministic ? ['nA', 'nB'] : [k]));
  return [...keys, ...(options.deterministic ? ['deterministic'] : []), ...(options.predict ? ['predict'] : []), 'seconds'];
}

/** A predict row, exactly as `ablate predict` writes it. @category App authors */
export interface PredictRow {
  index: number;
  label: number;
  prediction: number | null;
  correct: boolean;
  pValue: number;
  nA: number;
  nB: number;
  n: number;
  /** Base-classifier evaluations spent (= n). */
  samples: number;
  /** Wall-clock seconds of this image's computation. */
  seconds: number;
}

/** The keys of a predict row, in order. @category App authors */
export const PREDICT_ROW_KEYS = ['index', 'label', 'prediction', 'correct', 'pValue', 'nA', 'nB', 'n', 'samples', 'seconds'] as const;

/** PREDICT's settings of a dataset run, resolved (the CLI records them in its sidecar's config). @category App authors */
export interface PredictSettings {
  /** Samples per image (with `sequential`, the most it may draw). */
  n: number;
  /** The sequential test (predictSequential). */
  sequential?: true;
}

/** The config fields that decide PREDICT's sample count (a validated config, or a sidecar's recorded one). @category App authors */
export interface PredictSampleConfig {
  certifier?: { type?: string; n?: unknown; maxSamples?: unknown };
  predict?: { n?: unknown } | null;
}

const sampleCount = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : undefined);

/**
 * PREDICT's sample count per image (`predictAll`, `ablate predict`, `certify --predict`, the sidecar's recorded
 * `predict.n`, summarize's accounting): `predict.n` when given; else, for the `sequential` certifier (it has no
 * fixed n), its budget `maxSamples`; else the certifier's `n` (Cohen, Lecuyer). Undefined when the config names
 * none of these (e.g. a plug-in certifier without `n`).
 * @category App authors
 */
export function predictSampleCount(config: PredictSampleConfig): number | undefined {
  const explicit = sampleCount(config.predict?.n);
  if (explicit !== undefined) return explicit;
  const certifier = config.certifier;
  if (certifier?.type === 'sequential') return sampleCount(certifier.maxSamples);
  return sampleCount(certifier?.n);
}

/** What a dataset run needs of the runtime (an AblateRuntime has all of it). @category App authors */
export interface DatasetRunSource {
  config: PredictSampleConfig & { predict?: { n?: number; sequential?: boolean } };
  smoothed: SmoothedClassifier;
  certifier: Certifier;
  dataset?: Dataset;
}

/** Where a dataset run stands (DatasetRunOptions.onProgress). @category App authors */
export interface DatasetRunProgress {
  /** The image being computed. */
  index: number;
  /** Images of the range finished so far (those skipped as `done` included) and the range's size. */
  done: number;
  total: number;
  /** Where this image's CERTIFY / PREDICT stands (samples, planned, the sequential certifier's check and bounds). */
  image: RunProgress;
}

/** Options of `certifyAll` / `predictAll`: the range, the indices already done, cancellation and progress. @category App authors */
export interface DatasetRunOptions {
  /** First index (default 0). */
  start?: number;
  /** Number of images (default: to the end of the dataset; clipped to it). */
  count?: number;
  /** Indices already computed (a resumed run): skipped, no row. */
  done?: Iterable<number>;
  /** Cancels the run: the call in progress rejects within one batch with an AbortError (code `ABORTED`). */
  signal?: AbortSignal;
  /** Called after every batch of every image (must be cheap; an exception thrown by it ends the run). */
  onProgress?: (progress: DatasetRunProgress) => void;
}

/** Options of `certifyAll`: a DatasetRunOptions plus whether to add PREDICT to each row. @category App authors */
export interface CertifyAllOptions extends DatasetRunOptions {
  /**
   * Add PREDICT (its own samples, the image's PREDICT substream) as the row's `predict` field: true for the
   * config's settings (predictSampleCount, `predict.sequential`), an object to set them, false for none.
   * Default: as the config's `predict` key says (present: added), like `ablate certify`.
   */
  predict?: boolean | { n?: number; sequential?: boolean };
}

/** Options of `predictAll`: a DatasetRunOptions plus PREDICT's sample count and test (default: the config's). @category App authors */
export interface PredictAllOptions extends DatasetRunOptions {
  /** Samples per image (default predictSampleCount of the config, else the certifier's n). */
  n?: number;
  /** The sequential test (default the config's `predict.sequential`). */
  sequential?: boolean;
}

/**
 * PREDICT's settings of a run from the config and an explicit choice: for `predict`, always; for `certify`, when
 * `choice` (default: the config's `predict` key) asks for it. An ArgumentError naming `predict` for a
 * deterministic certifier (vote-gap: exact votes, no α for PREDICT's test).
 * @category App authors
 */
export function resolvePredictSettings(source: Pick<DatasetRunSource, 'config' | 'certifier'>, kind: 'certify' | 'predict', choice?: boolean | { n?: number; sequential?: boolean }): PredictSettings | undefined {
  const wanted = choice ?? (kind === 'predict' || source.config.predict != null);
  if (wanted === false) return undefined;
  if (source.certifier.deterministic) {
    throw new ArgumentError('predict', `the ${source.certifier.type} certifier is exact (α = 0, it never abstains), so PREDICT's test at α does not apply`, "the certificate's prediction is the vote winner");
  }
  const given = typeof wanted === 'object' ? wanted : {};
  const n = given.n ?? predictSampleCount(source.config) ?? source.certifier.n;
  assertInteger('predict.n', n, 1);
  const sequential = given.sequential ?? source.config.predict?.sequential ?? false;
  return { n, ...(sequential ? { sequential: true as const } : {}) };
}

/** Per-row options of `datasetRow`. @category App authors */
export interface DatasetRowOptions {
  /** Cancels the image's calls (AbortError, code `ABORTED`, within one batch). */
  signal?: AbortSignal;
  /** Where the image's CERTIFY / PREDICT stands, after every batch (RunOptions.onProgress). */
  onProgress?: (progress: RunProgress) => void;
}

/**
 * The row of one dataset image: CERTIFY (and, with `predict`, PREDICT on its own substream) or PREDICT, with the
 * random stream of its own index, so the row is the same whichever process or machine computes it (only
 * `seconds` differs). The image is read with the dataset's `getAsync` when it has one. The one place rows are
 * built: `certifyAll` / `predictAll`, the CLI and its distributed workers all call it.
 * @category App authors
 */
export async function datasetRow(source: DatasetRunSource, kind: 'certify', index: number, predict: PredictSettings | undefined, options?: DatasetRowOptions): Promise<CertifyRow>;
export async function datasetRow(source: DatasetRunSource, kind: 'predict', index: number, predict: PredictSettings, options?: DatasetRowOptions): Promise<PredictRow>;
export async function datasetRow(source: DatasetRunSource, kind: 'certify' | 'predict', index: number, predict: PredictSettings | undefined, options?: DatasetRowOptions): Promise<CertifyRow | PredictRow>;
export async function datasetRow(source: DatasetRunSource, kind: 'certify' | 'predict', index: number, predict: PredictSettings | undefined, options: DatasetRowOptions = {}): Promise<CertifyRow | PredictRow> {
  const dataset = needDataset(source);
  throwIfAborted(options.signal);
  const { image, label } = (await untilAborted(dataset.getAsync?.(index), options.signal)) ?? dataset.get(index);
  const { smoothed } = source;
  // a label the model cannot predict (an IDX labels file holding 200 for a 10-class model) would only ever count
  // as "misclassified": it is the dataset's error, reported before any sample is drawn
  const classes = smoothed.classifier.numClasses;
  if (!(Number.isInteger(label) && label >= 0 && label < classes)) {
    throw new InputError(`dataset[${index}].label`, `is ${label}, not one of the model's ${classes} classes (0 … ${classes - 1})`, 'use the labels file (or class folders) that belong to this model');
  }
  const t0 = performance.now();
  const run = { index, signal: options.signal, onProgress: options.onProgress };
  if (kind === 'certify') {
    let c, p;
    if (predict === undefined) c = await smoothed.certify(image, run);
    else if (predict.sequential) {
      // certifyAndPredict has no sequential PREDICT: the two calls draw exactly what it would.
      c = await smoothed.certify(image, run);
      p = await smoothed.predict(image, { ...run, ...predict });
    } else ({ certificate: c, prediction: p } = await smoothed.certifyAndPredict(image, { ...run, predictN: predict.n }));
    const seconds = Math.round(performance.now() - t0) / 1000;
    const predictField = p ? { predict: { prediction: p.prediction, pValue: p.pValue, nA: p.nA, nB: p.nB, n: p.n } } : {};
    return {
      index,
      label,
      prediction: c.prediction,
      radius: c.radius,
      correct: c.prediction === label,
      pLower: c.pLower,
      nA: c.nA,
      ...(c.deterministic ? { nB: c.nB ?? 0 } : {}),
      n: c.n,
      samples: c.samples,
      ...(c.deterministic ? { deterministic: true as const } : {}),
      ...predictField,
      seconds,
    };
  }
  if (predict === undefined) throw new ArgumentError('predict', 'a predict row needs PREDICT settings', 'pass resolvePredictSettings(rt, "predict")');
  const p = await smoothed.predict(image, { ...run, ...predict });
  const seconds = Math.round(performance.now() - t0) / 1000;
  return { index, label, prediction: p.prediction, correct: p.prediction === label, pValue: p.pValue, nA: p.nA, nB: p.nB, n: p.n, samples: p.n, seconds };
}

/**
 * Rows of a dataset range, one per image in index order, skipping `done` (what `rt.certifyAll` / `rt.predictAll`
 * return). Each image draws from its own index's stream, so a resumed run yields exactly the rows an
 * uninterrupted one would have (but for `seconds`). Arguments are checked when iteration starts.
 * @category App authors
 */
export async function* datasetRows(source: DatasetRunSource, kind: 'certify' | 'predict', predict: PredictSettings | undefined, options: DatasetRunOptions = {}): AsyncGenerator<CertifyRow | PredictRow, void, undefined> {
  const dataset = needDataset(source);
  const start = options.start ?? 0;
  assertInteger('start', start, 0);
  if (start >= dataset.size) throw new ArgumentError('start', `${start} is past the end of ${dataset.name} (${dataset.size} images)`);
  if (options.count !== undefined) assertInteger('count', options.count, 0);
  const count = Math.min(options.count ?? dataset.size - start, dataset.size - start);
  if (options.done !== undefined && typeof (options.done as { [Symbol.iterator]?: unknown } | null)?.[Symbol.iterator] !== 'function') {
    throw new ArgumentError('done', 'must be an iterable of indices (a Set or an array)', 'e.g. done: new Set([0, 1])');
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new ArgumentError('onProgress', 'must be a function');
  if (options.signal !== undefined && !isAbortSignal(options.signal)) throw new ArgumentError('signal', 'must be an AbortSignal', 'pass controller.signal of an AbortController');
  const done = new Set<number>();
  for (const i of options.done ?? []) {
    // (a string "3" or 2.5 would never be skipped yet count as done: progress would report more than the range)
    if (typeof i !== 'number' || !Number.isInteger(i)) {
      throw new ArgumentError('done', `must hold integer indices, got ${typeof i === 'string' ? JSON.stringify(i) + ' (a string)' : String(i)}`, 'e.g. done: new Set([0, 1]); parse indices read from a file with Number()');
    }
    if (i >= start && i < start + count) done.add(i);
  }
  let finished = done.size;
  const { signal, onProgress } = options;
  const reporter = (index: number) => onProgress && ((image: RunProgress) => onProgress({ index, done: finished, total: count, image }));
  const inFlight = source.smoothed.imagesInFlight ?? 1;
  if (inFlight <= 1) {
    for (let index = start; index < start + count; index++) {
      if (done.has(index)) continue;
      throwIfAborted(signal);
      yield await datasetRow(source, kind, index, predict, { signal, onProgress: reporter(index) });
      finished++;
    }
    return;
  }
  yield* rowsInFlight(source, kind, predict, { start, count, done, signal, inFlight, reporter, finish: () => finished++ });
}

/**
 * datasetRows with `imagesInFlight` > 1: up to that many images computed at once (their classifier requests merged
 * by the smoothed classifier's BatchCoalescer), rows yielded in index order; stopping early or a failed row aborts
 * and awaits the images still running (inFlightInOrder).
 */
async function* rowsInFlight(
  source: DatasetRunSource,
  kind: 'certify' | 'predict',
  predict: PredictSettings | undefined,
  o: { start: number; count: number; done: Set<number>; signal?: AbortSignal; inFlight: number; reporter: (index: number) => ((image: RunProgress) => void) | undefined; finish: () => void },
): AsyncGenerator<CertifyRow | PredictRow, void, undefined> {
  const indices: number[] = [];
  for (let index = o.start; index < o.start + o.count; index++) if (!o.done.has(index)) indices.push(index);
  const rows = inFlightInOrder(indices, o.inFlight, (index, signal) => datasetRow(source, kind, index, predict, { signal, onProgress: o.reporter(index) }), o.signal);
  for await (const row of rows) {
    yield row;
    o.finish();
  }
}

/** certifyAll: CERTIFY rows of a range (with PREDICT as `options.predict` or the config says). */
export function certifyRows(source: DatasetRunSource, options: CertifyAllOptions = {}): AsyncGenerator<CertifyRow, void, undefined> {
  return lazily(() => datasetRows(source, 'certify', resolvePredictSettings(source, 'certify', options.predict), options) as AsyncGenerator<CertifyRow, void, undefined>);
}

/** predictAll: PREDICT rows of a range (n and the test as options or the config say). */
export function predictRows(source: DatasetRunSource, options: PredictAllOptions = {}): AsyncGenerator<PredictRow, void, undefined> {
  const choice = { ...(options.n !== undefined ? { n: options.n } : {}), ...(options.sequential !== undefined ? { sequential: options.sequential } : {}) };
  return lazily(() => datasetRows(source, 'predict', resolvePredictSettings(source, 'predict', choice), options) as AsyncGenerator<PredictRow, void, undefined>);
}

/** A generator that runs `make` on the first `next()`, so argument errors reject there rather than throw at the call. */
async function* lazily<T>(make: () => AsyncGenerator<T, void, undefined>): AsyncGenerator<T, void, undefined> {
  yield* make();
}

/**
 * `read`, or an AbortError as soon as `signal` aborts: a dataset read that never settles must not hold up a run that
 * stops (with images in flight, the images read ahead are aborted and awaited when the consumer stops).
 */
function untilAborted<T>(read: Promise<T> | undefined, signal: AbortSignal | undefined): Promise<T> | T | undefined {
  if (read === undefined || signal === undefined) return read;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortError(signal.reason));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    Promise.resolve(read).then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener('abort', onAbort), reject(error)),
    );
  });
}

function needDataset(source: DatasetRunSource): Dataset {
  if (!source.dataset) throw new ConfigError([{ path: '/dataset', message: 'the config names no dataset; a dataset run needs one (e.g. "dataset": {"type": "mnist"})' }]);
  return source.dataset;
}
