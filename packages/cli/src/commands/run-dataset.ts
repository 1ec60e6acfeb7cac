import { createContainer, type AblateRuntime } from '@ablate/core';
// The packages providing the config's types (backends, datasets) and --plugin modules are loaded before this
// runs, on first use of their type (see ../plugins.ts).
import { effectiveConfig, type ConfigOverrides } from '../config.js';
import { UsageError } from '../errors.js';
import { ResultsFile, SIDECAR_FORMAT, SIDECAR_VERSION, modelFingerprint } from '../results/index.js';
import { createProgress } from '../progress.js';
import { predictSampleCount } from '../predict-samples.js';

export interface DatasetRunOptions extends ConfigOverrides {
  config?: string;
  start?: number;
  count?: number;
  out?: string;
  resume?: boolean;
}

/** PREDICT's outcome inside a certify row (`certify --predict`): its own n samples, nA and nB the top two counts. */
export interface PredictField {
  prediction: number | null;
  pValue: number;
  nA: number;
  nB: number;
  n: number;
}

/** A certify row, exactly as other tools read it. `predict` is present when the run had `--predict`. */
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
  seconds: number;
}

/** The keys of a certify row, in order (the sidecar records them; a resume checks every row has exactly these). */
export const CERTIFY_ROW_KEYS = ['index', 'label', 'prediction', 'radius', 'correct', 'pLower', 'nA', 'n', 'samples', 'seconds'] as const;

/**
 * The keys of a certify row of this run: deterministic certifiers (vote-gap) add `nB` after `nA` and
 * `deterministic` after `samples`, and with `--predict`, `predict` stands just before `seconds`.
 */
export function certifyRowKeys(options: { predict: boolean; deterministic: boolean }): readonly string[] {
  const keys = CERTIFY_ROW_KEYS.slice(0, -1).flatMap((k) => (k === 'nA' && options.deterministic ? ['nA', 'nB'] : [k]));
  return [...keys, ...(options.deterministic ? ['deterministic'] : []), ...(options.predict ? ['predict'] : []), 'seconds'];
}

/**
 * Row layouts of earlier ablate versions that a resume of this run continues in, so their files stay
 * resumable: vote-gap rows written before they carried `nB`.
 */
export function olderCertifyRowKeys(options: { predict: boolean; deterministic: boolean }): ReadonlyArray<readonly string[]> {
  return options.deterministic ? [certifyRowKeys(options).filter((k) => k !== 'nB')] : [];
}

/** The row with exactly `keys`, in their order (a resumed file's layout; see olderCertifyRowKeys). */
export function inLayout<R extends object>(row: R, keys: readonly string[] | undefined): R {
  if (!keys || Object.keys(row).join(',') === keys.join(',')) return row;
  return Object.fromEntries(keys.map((k) => [k, (row as Record<string, unknown>)[k]])) as R;
}

/** A predict row. */
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
  seconds: number;
}

export const PREDICT_ROW_KEYS = ['index', 'label', 'prediction', 'correct', 'pValue', 'nA', 'nB', 'n', 'samples', 'seconds'] as const;

/**
 * PREDICT's settings for a run: for `predict`, and for `certify` with `--predict` (config `predict`), the sample
 * count of `predictSampleCount` (`predict.n`, else the sequential certifier's maxSamples, else the certifier's n)
 * and `sequential`; undefined for a certify run without PREDICT.
 */
export function predictSettings(rt: AblateRuntime, kind: 'certify' | 'predict'): PredictSettings | undefined {
  if (kind === 'certify' && !rt.config.predict) return undefined;
  if (rt.certifier.deterministic) {
    throw new UsageError(kind === 'predict' ? 'predict' : '--predict', `the ${rt.certifier.type} certifier is exact (α = 0, it never abstains), so PREDICT's test at α does not apply`, "drop --predict: the certificate's prediction is the vote winner");
  }
  return { n: predictSampleCount(rt.config) ?? rt.certifier.n, ...(rt.config.predict?.sequential ? { sequential: true } : {}) };
}

/** PREDICT's settings, resolved (recorded in the sidecar's config, so a resume with others is refused). */
export interface PredictSettings {
  n: number;
  sequential?: true;
}

/**
 * The row of one dataset image: CERTIFY (and, with `predict`, PREDICT on its own substream) or PREDICT, with the
 * random stream of its own index, so the row is the same whichever process or machine computes it (only
 * `seconds` differs). The distributed workers call this too.
 */
export async function computeRow(rt: AblateRuntime, kind: 'certify' | 'predict', index: number, predict = predictSettings(rt, kind)): Promise<CertifyRow | PredictRow> {
  const dataset = rt.dataset;
  if (!dataset) throw new UsageError('--dataset', 'the config names no dataset', 'add "dataset": {"type": "mnist"} or pass --dataset mnist');
  const { image, label } = (await dataset.getAsync?.(index)) ?? dataset.get(index); // without blocking the event loop where the dataset can
  const t0 = performance.now();
  if (kind === 'certify') {
    const c = await rt.smoothed.certify(image, { index });
    const p = predict === undefined ? undefined : await rt.smoothed.predict(image, { index, ...predict });
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
  const p = await rt.smoothed.predict(image, { index, ...predict! });
  const seconds = Math.round(performance.now() - t0) / 1000;
  return { index, label, prediction: p.prediction, correct: p.prediction === label, pValue: p.pValue, nA: p.nA, nB: p.nB, n: p.n, samples: p.n, seconds };
}

/**
 * Runs CERTIFY or PREDICT over a slice of the configured dataset, writing one JSON line per image as it
 * finishes (to --out, flushed, resumable; or to stdout). Each image uses the random stream of its own index, so
 * a resumed run writes exactly what an uninterrupted one would have.
 */
export async function runOverDataset(kind: 'certify' | 'predict', options: DatasetRunOptions, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream }): Promise<void> {
  if (options.resume && !options.out) throw new UsageError('--resume', 'needs --out FILE.jsonl to resume', 'e.g. --out results.jsonl --resume');
  const { config, baseDir } = effectiveConfig(options.config, options);
  // The results file is checked and locked before the model and data load: path errors come first and fast.
  const results = options.out ? ResultsFile.open(options.out, { resume: options.resume ?? false }) : undefined;
  try {
    await runWith(kind, options, io, config, baseDir, results);
  } finally {
    results?.close();
  }
}

async function runWith(
  kind: 'certify' | 'predict',
  options: DatasetRunOptions,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream },
  config: ReturnType<typeof effectiveConfig>['config'],
  baseDir: string,
  writer: ResultsFile | undefined,
): Promise<void> {
  const rt: AblateRuntime = await createContainer(config, { baseDir, warn: (m) => io.stderr.write(`warning: ${m}\n`) });
  try {
    const dataset = rt.dataset;
    if (!dataset) throw new UsageError('--dataset', 'the config names no dataset', 'add "dataset": {"type": "mnist"} or pass --dataset mnist');
    if (kind === 'predict' && rt.certifier.deterministic) {
      throw new UsageError('--certifier', `${rt.certifier.type} predicts from exact votes and never abstains`, 'run `ablate certify`: its prediction is the vote winner');
    }
    const start = options.start ?? 0;
    if (start >= dataset.size) throw new UsageError('--start', `${start} is past the end of ${dataset.name} (${dataset.size} images)`);
    const count = Math.min(options.count ?? dataset.size - start, dataset.size - start);
    // PREDICT's sample count, resolved into the recorded config so that a resume with another count is refused.
    const predict = predictSettings(rt, kind);
    const runConfig = predict === undefined ? rt.config : { ...rt.config, predict };
    const layout = { predict: predict !== undefined, deterministic: rt.certifier.deterministic === true };
    writer?.prepare({
      format: SIDECAR_FORMAT,
      version: SIDECAR_VERSION,
      command: kind,
      perturbation: rt.perturbation.describe(),
      unit: rt.perturbation.bound(dataset.shape).unit,
      config: runConfig,
      model: modelFingerprint(rt.config.classifier.model, baseDir) ?? null,
      rowKeys: kind === 'certify' ? certifyRowKeys(layout) : PREDICT_ROW_KEYS,
      datasetSize: dataset.size,
      started: new Date().toISOString(),
    }, { olderRowKeys: kind === 'certify' ? olderCertifyRowKeys(layout) : [] });
    const indices = Array.from({ length: count }, (_, i) => start + i);
    const todo = indices.filter((i) => !writer?.done.has(i));
    const samplesPerImage = kind === 'certify' ? rt.certifier.n0 + rt.certifier.n + (predict?.n ?? 0) : predict!.n;
    const progress = createProgress(count, count - todo.length, io.stderr);
    try {
      for (const index of todo) {
        const row = await computeRow(rt, kind, index, predict);
        const label = row.label;
        if (writer) writer.append(inLayout(row, writer.rowKeys));
        else io.stdout.write(`${JSON.stringify(row)}\n`);
        const outcome = row.prediction === null ? 'abstain' : `→ ${row.prediction}${'radius' in row ? `, radius ${row.radius}` : ''}`;
        progress.tick({ index, samples: 'samples' in row ? row.samples : samplesPerImage, line: `image ${index}: label ${label} ${outcome} (${row.seconds.toFixed(2)} s)` });
      }
    } finally {
      progress.stop();
    }
  } finally {
    await rt.dispose();
  }
}
