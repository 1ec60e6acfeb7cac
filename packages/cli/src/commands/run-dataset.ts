import { certifyRowKeys, createContainer, PREDICT_ROW_KEYS, datasetRow, datasetRows, resolvePredictSettings, type AblateRuntime, type CertifyRow, type DatasetRunProgress, type PredictRow, type PredictSettings } from '@ablate/core';
// The packages providing the config's types (backends, datasets) and --plugin modules are loaded before this
// runs, on first use of their type (see ../plugins.ts).
import { effectiveConfig, type ConfigOverrides } from '../config.js';
import { UsageError } from '../errors.js';
import { ResultsFile, SIDECAR_FORMAT, SIDECAR_VERSION, modelFingerprint } from '../results/index.js';
import { createProgress } from '../progress.js';

export interface DatasetRunOptions extends ConfigOverrides {
  config?: string;
  start?: number;
  count?: number;
  out?: string;
  resume?: boolean;
}

// The rows are built in @ablate/core (datasetRow), the one source for the CLI, its distributed workers and
// `rt.certifyAll` / `rt.predictAll`; their types and key lists are re-exported here for the CLI's modules.
export { CERTIFY_ROW_KEYS, PREDICT_ROW_KEYS, certifyRowKeys, type CertifyRow, type PredictField, type PredictRow, type PredictSettings } from '@ablate/core';

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
  return resolvePredictSettings(rt, kind);
}

/**
 * The row of one dataset image (core's datasetRow, with PREDICT's settings of the run): CERTIFY (and, with
 * `predict`, PREDICT on its own substream) or PREDICT, from the random stream of its own index, so the row is the
 * same whichever process or machine computes it (only `seconds` differs). The distributed workers call this.
 */
export async function computeRow(rt: AblateRuntime, kind: 'certify' | 'predict', index: number, predict = predictSettings(rt, kind)): Promise<CertifyRow | PredictRow> {
  if (!rt.dataset) throw new UsageError('--dataset', 'the config names no dataset', 'add "dataset": {"type": "mnist"} or pass --dataset mnist');
  return datasetRow(rt, kind, index, predict);
}

/**
 * The rows of images [start, start + count), in index order: computeRow's rows, with the config's `imagesInFlight`
 * images computed at once (core's datasetRows). The distributed workers compute a job's range with it.
 */
export function computeRows(rt: AblateRuntime, kind: 'certify' | 'predict', start: number, count: number): AsyncGenerator<CertifyRow | PredictRow, void, undefined> {
  if (!rt.dataset) throw new UsageError('--dataset', 'the config names no dataset', 'add "dataset": {"type": "mnist"} or pass --dataset mnist');
  return datasetRows(rt, kind, predictSettings(rt, kind), { start, count });
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
    const done = writer?.done ?? new Set<number>();
    let skipped = 0;
    for (let i = start; i < start + count; i++) if (done.has(i)) skipped++;
    const samplesPerImage = kind === 'certify' ? rt.certifier.n0 + rt.certifier.n + (predict?.n ?? 0) : predict!.n;
    const progress = createProgress(count, skipped, io.stderr);
    // The library's iterator over the range (one source of rows); the CLI only writes and reports them.
    // Within an image: its stage and samples (and the sequential checks), after the bar on a TTY, else a line at
    // most every 30 s, so a long image (n = 100 000) shows it is alive.
    const onProgress = ({ index, image: p }: DatasetRunProgress) =>
      progress.status(
        `image ${index}: ${p.stage}, ${p.samples}/${p.planned} samples` +
          (p.check === undefined ? '' : `, check ${p.check}/${p.checks}${p.radiusLower === undefined ? '' : `, radius ≥ ${p.radiusLower ?? 'none yet'}`}`),
      );
    const rows: AsyncIterable<CertifyRow | PredictRow> =
      kind === 'certify'
        ? rt.certifyAll({ start, count, done, onProgress, predict: predict ?? false })
        : rt.predictAll({ start, count, done, onProgress, n: predict!.n, sequential: predict!.sequential === true });
    try {
      for await (const row of rows) {
        const { index, label } = row;
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
