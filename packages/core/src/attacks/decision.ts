import type { BaseClassifier } from '../classifier/base-classifier.js';
import type { Encoder } from '../encoders/encoder.js';
import { encodedShape } from '../encoders/encoder.js';
import type { SmoothedClassifier } from '../engine/smoothed-classifier.js';
import { PerturbedBatch } from '../perturbations/perturbed-batch.js';
import { mixSeed } from '../rng.js';
import { throwIfAborted } from '../errors.js';
import { features, type Image } from '../shape.js';

/** Identifies one query of an attack: the image, the restart and the query's number within that restart. @category Plug-in authors */
export interface QueryKey {
  index: number;
  restart: number;
  query: number;
}

/** The answer to one query: the class the attacked model returns (null: abstains) and the samples it cost. @category Plug-in authors */
export interface Decision {
  prediction: number | null;
  samples: number;
  /** PREDICT's evidence, when the oracle is a PREDICT: votes of the top two classes and the test's p-value. */
  votes?: { nA: number; nB: number; pValue: number };
}

/**
 * The black-box oracle an attack queries. Each call must be answered from its own random stream, fixed by the
 * key (so a run is deterministic for a seed and does not depend on which images ran before). Implementations:
 * `predictDecider` (the smoothed classifier's PREDICT with n samples), `baseClassifierDecider` (an undefended
 * model's argmax). A sequential PREDICT is one more implementation of this type.
 * @category Plug-in authors
 */
export type Decide = (x: Image, key: QueryKey, options?: DecideOptions) => Promise<Decision>;

/** Per-query options an attack passes its oracle. @category Plug-in authors */
export interface DecideOptions {
  /** The attack's `signal`: an oracle that samples honours it between batches (AbortError, code `ABORTED`). */
  signal?: AbortSignal;
}

/**
 * The random-stream number of a query: a hash of (index, restart, query) into [0, 2³²), passed to
 * SmoothedClassifier as RunOptions.index, which seeds the stream together with the config's seed.
 * @category Plug-in authors
 */
export function queryStream(key: QueryKey): number {
  return mixSeed(mixSeed(mixSeed(0x51755259, key.index), key.restart), key.query) >>> 0;
}

/** Stream of an attack's own draws (noise, shuffles) in one restart; disjoint tag from `queryStream`. @category Plug-in authors */
export function attackStream(index: number, restart: number): number {
  return mixSeed(mixSeed(0x41747461, index), restart) >>> 0;
}

/**
 * The random-stream number of an attack's k-th confirming PREDICT on image `index` (k counts the image's
 * confirmations, over all restarts): a hash with its own tag, used with `SUBSTREAM.confirm`, so a confirmation
 * never shares samples with a search query (those use `SUBSTREAM.predict`) nor with another confirmation.
 * @category Plug-in authors
 */
export function confirmStream(index: number, attempt: number): number {
  return mixSeed(mixSeed(0x436f6e66, index), attempt) >>> 0;
}

/**
 * PREDICT of Cohen et al. (2019) as an oracle: n fresh samples per query (default certifier.n), two-sided
 * binomial test at α = certifier.alpha, abstaining (null) when it cannot tell the top class. This is the paper's
 * query (Table 2: 10 000 samples per query). With `sequential`, at most n samples.
 * @category Plug-in authors
 */
export function predictDecider(smoothed: SmoothedClassifier, options: { sequential?: boolean; n?: number } = {}): Decide {
  return async (x, key, run) => {
    const p = await smoothed.predict(x, { index: queryStream(key), sequential: options.sequential ?? false, ...(options.n === undefined ? {} : { n: options.n }), ...(run?.signal ? { signal: run.signal } : {}) });
    return { prediction: p.prediction, samples: p.n, votes: { nA: p.nA, nB: p.nB, pValue: p.pValue } };
  };
}

/**
 * The confirming oracle of an attack on a smoothed classifier: PREDICT with exactly n samples (default
 * certifier.n; the paper's 10 000) from `SUBSTREAM.confirm` of stream `confirmStream(key.index, key.query)`
 * (the attack passes the image's confirmation count as `query`), so it is independent of every query the
 * search asked. An attack reports an example only when this oracle, asked afresh, misclassifies or abstains on it.
 * @category Plug-in authors
 */
export function confirmDecider(smoothed: SmoothedClassifier, options: { n?: number } = {}): Decide {
  return async (x, key, run) => {
    const p = await smoothed.predict(x, { index: confirmStream(key.index, key.query), confirm: true, ...(options.n === undefined ? {} : { n: options.n }), ...(run?.signal ? { signal: run.signal } : {}) });
    return { prediction: p.prediction, samples: p.n, votes: { nA: p.nA, nB: p.nB, pValue: p.pValue } };
  };
}

/**
 * An undefended classifier as an oracle: the base model's argmax on the clean, encoded input (one forward pass,
 * no perturbation, never abstains). For the "undefended CNN" row of Table 2.
 * @category Plug-in authors
 */
export function baseClassifierDecider(classifier: BaseClassifier, encoder: Encoder): Decide {
  let cache: { key: string; batch: PerturbedBatch; encoded: Float32Array } | undefined;
  return async (x, _key, run) => {
    throwIfAborted(run?.signal);
    const encShape = encodedShape(encoder, x.shape);
    const key = `${x.shape.join('x')}`;
    if (cache?.key !== key) {
      await classifier.checkInputShape(encShape);
      cache = { key, batch: new PerturbedBatch(x.shape, 1), encoded: new Float32Array(features(encShape)) };
    }
    cache.batch.values.set(x.data);
    cache.batch.kept.fill(1);
    encoder.encode(cache.batch, 1, cache.encoded);
    const out = await classifier.classify(cache.encoded, 1, encShape);
    return { prediction: out[0]!, samples: 1 };
  };
}
