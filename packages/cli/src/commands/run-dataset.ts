import { createContainer, type AblateRuntime } from '@ablate/core';
// The packages providing the config's types (backends, datasets) and --plugin modules are loaded before this
// runs, on first use of their type (see ../plugins.ts).
import { effectiveConfig, type ConfigOverrides } from '../config.js';
import { UsageError } from '../errors.js';
import { ResumableJsonl, writeOrCheckMeta } from '../jsonl.js';
import { createProgress } from '../progress.js';

export interface DatasetRunOptions extends ConfigOverrides {
  config?: string;
  start?: number;
  count?: number;
  out?: string;
  resume?: boolean;
}

/** A certify row, exactly as other tools read it. */
export interface CertifyRow {
  index: number;
  label: number;
  prediction: number | null;
  radius: number | null;
  correct: boolean;
  pLower: number;
  nA: number;
  n: number;
  seconds: number;
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
  seconds: number;
}

/**
 * Runs CERTIFY or PREDICT over a slice of the configured dataset, writing one JSON line per image as it
 * finishes (to --out, flushed, resumable; or to stdout). Each image uses the random stream of its own index, so
 * a resumed run writes exactly what an uninterrupted one would have.
 */
export async function runOverDataset(kind: 'certify' | 'predict', options: DatasetRunOptions, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream }): Promise<void> {
  if (options.resume && !options.out) throw new UsageError('--resume', 'needs --out FILE.jsonl to resume', 'e.g. --out results.jsonl --resume');
  const { config, baseDir } = effectiveConfig(options.config, options);
  const rt: AblateRuntime = await createContainer(config, { baseDir, warn: (m) => io.stderr.write(`warning: ${m}\n`) });
  try {
    const dataset = rt.dataset;
    if (!dataset) throw new UsageError('--dataset', 'the config names no dataset', 'add "dataset": {"type": "mnist"} or pass --dataset mnist');
    const start = options.start ?? 0;
    if (start >= dataset.size) throw new UsageError('--start', `${start} is past the end of ${dataset.name} (${dataset.size} images)`);
    const count = Math.min(options.count ?? dataset.size - start, dataset.size - start);
    const writer = options.out ? new ResumableJsonl(options.out, options.resume ?? false) : undefined;
    if (writer && options.out) {
      writeOrCheckMeta(
        options.out,
        { command: kind, perturbation: rt.perturbation.describe(), unit: rt.perturbation.bound(dataset.shape).unit, config: rt.config, started: new Date().toISOString() },
        options.resume ?? false,
      );
    }
    const indices = Array.from({ length: count }, (_, i) => start + i);
    const todo = indices.filter((i) => !writer?.done.has(i));
    const samplesPerImage = kind === 'certify' ? rt.certifier.n0 + rt.certifier.n : rt.certifier.n;
    const progress = createProgress(count, count - todo.length, io.stderr);
    try {
      for (const index of todo) {
        const { image, label } = dataset.get(index);
        const t0 = performance.now();
        let row: CertifyRow | PredictRow;
        if (kind === 'certify') {
          const c = await rt.smoothed.certify(image, { index });
          const seconds = Math.round(performance.now() - t0) / 1000;
          row = { index, label, prediction: c.prediction, radius: c.radius, correct: c.prediction === label, pLower: c.pLower, nA: c.nA, n: c.n, seconds };
        } else {
          const p = await rt.smoothed.predict(image, { index });
          const seconds = Math.round(performance.now() - t0) / 1000;
          row = { index, label, prediction: p.prediction, correct: p.prediction === label, pValue: p.pValue, nA: p.nA, nB: p.nB, n: p.n, seconds };
        }
        if (writer) writer.append(row);
        else io.stdout.write(`${JSON.stringify(row)}\n`);
        const outcome = row.prediction === null ? 'abstain' : `→ ${row.prediction}${'radius' in row ? `, radius ${row.radius}` : ''}`;
        progress.tick({ index, samples: samplesPerImage, line: `image ${index}: label ${label} ${outcome} (${row.seconds.toFixed(2)} s)` });
      }
    } finally {
      progress.stop();
      writer?.close();
    }
  } finally {
    await rt.dispose();
  }
}
