import { closeSync, constants, fstatSync, openSync, readdirSync, statSync } from 'node:fs';
import { readFully } from '@ablate/core/node';
import { basename, dirname, join, resolve } from 'node:path';
import { createSlot, registry, type Dataset } from '@ablate/core';
import { UsageError } from '../errors.js';
import { pathError, readMeta } from '../results/index.js';
import { summarize, type Summary } from '../summary.js';

/** The largest results file `ablate report` reads whole. */
export const MAX_REPORT_INPUT_BYTES = 256 * 1024 * 1024;
/** The largest adversarial-example PNG embedded in a report. */
export const MAX_EXAMPLE_PNG_BYTES = 1024 * 1024;
/** Thumbnails are embedded for at most this many images per run (raw 8-bit pixels, ~1 KB each for MNIST). */
export const MAX_REPORT_THUMBNAILS = 20_000;
/** … and at most this many pixel bytes per run (all of CIFAR-10's test set fits; a folder of 4096×4096 images does not). */
export const MAX_REPORT_THUMBNAIL_BYTES = 32 * 1024 ** 2;

/** One gallery row: what the table shows of a result line. */
export interface ReportRow {
  index: number;
  label: number | null;
  /** CERTIFY's (or the predict run's) prediction; null = abstained. Attack rows: null. */
  prediction: number | null;
  /** PREDICT's decision in a `certify --predict` row; undefined when the row has none. */
  predict?: number | null;
  correct: boolean | null;
  radius: number | null;
  pLower: number | null;
  samples: number | null;
  /** Attack rows: pixels changed in the best adversarial example; null = none found. */
  magnitude?: number | null;
  /**
   * Attack rows with a confirming oracle (`--confirm-n`): the fresh PREDICT that confirmed the reported example,
   * its answer (null = abstained) and samples; null when none was confirmed. Undefined for rows without one.
   */
  confirmed?: { prediction: number | null; n: number | null } | null;
  /** Attack rows with a confirming oracle: the magnitude where the search ended, before confirmation (null: none). */
  searchMagnitude?: number | null;
}

/** Everything the page shows of one results file. */
export interface ReportRun {
  file: string;
  name: string;
  command: string | null;
  config: unknown;
  summary: Summary;
  rows: ReportRow[];
  /** Thumbnails: image shape and, per index, its 8-bit CHW pixels in base64; null when the dataset could not be loaded. */
  images: { shape: readonly number[]; pixels: Record<string, string> } | null;
  /** Why there are no thumbnails, when there are none. */
  imagesNote?: string;
  /** Attack runs: index → PNG data URI of the adversarial example. */
  adversarial: Record<string, string>;
  examplesDir?: string;
}

/**
 * Reads a regular file of at most `max` bytes whole (refusing anything else with a UsageError naming `flag`).
 * Opened non-blocking, so a FIFO (planted in an examples folder, or swapped in after a check) is refused by the
 * fstat that follows instead of hanging the open.
 */
export function readCapped(file: string, max: number, flag: string): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw pathError(flag, file, error, 'give a results file written by ablate certify, predict or attack');
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UsageError(flag, `${file} is not a regular file`);
    if (st.size > max) throw new UsageError(flag, `${file} is ${st.size} bytes, over the ${max}-byte limit of ablate report`);
    const buf = Buffer.alloc(st.size);
    return buf.subarray(0, readFully(fd, buf));
  } finally {
    closeSync(fd);
  }
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The rows of a results file's text (read once, already validated by `summarize`), one per index (the last line of an index wins, as in `summarize`). */
function readRows(text: string): ReportRow[] {
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  const byIndex = new Map<number, ReportRow>();
  for (const line of complete.split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as Record<string, unknown>; // summarize() has already validated every line
    const predict = r.predict as { prediction?: unknown } | undefined;
    const row: ReportRow = {
      index: r.index as number,
      label: num(r.label),
      prediction: num(r.prediction),
      correct: typeof r.correct === 'boolean' ? r.correct : null,
      radius: num(r.radius),
      pLower: num(r.pLower),
      samples: num(r.samples),
    };
    if (predict && typeof predict === 'object') row.predict = num(predict.prediction);
    if ('magnitude' in r) row.magnitude = num(r.magnitude);
    if ('confirmed' in r) {
      const c = r.confirmed as { prediction?: unknown; n?: unknown } | null;
      row.confirmed = c && typeof c === 'object' ? { prediction: num(c.prediction), n: num(c.n) } : null;
      row.searchMagnitude = num(r.searchMagnitude);
    }
    byIndex.set(row.index, row);
  }
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

/** Loads the run's dataset from its sidecar config (relative paths resolve against the results file's folder). */
async function loadDataset(config: Record<string, unknown> | undefined, file: string, dataPath: string | undefined): Promise<Dataset> {
  const slot = config?.dataset as { type?: unknown } | undefined;
  if (!slot || typeof slot.type !== 'string') throw new Error('its sidecar names no dataset');
  const { preparePlugins } = await import('../plugins.js');
  const baseDir = dirname(resolve(file));
  await preparePlugins({ cliPlugins: [], configPlugins: [], baseDir }, { dataset: slot.type });
  const options = { ...(slot as Record<string, unknown>), ...(dataPath ? { path: resolve(dataPath) } : {}) } as { type: string };
  return createSlot(registry, 'dataset', options, { baseDir, warn: () => {} });
}

/** 8-bit CHW pixels of a [0, 1] image, base64 (values rounded to the nearest level). */
function imageBase64(data: Float32Array | ArrayLike<number>): string {
  const bytes = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) bytes[i] = Math.max(0, Math.min(255, Math.round(Number(data[i]) * 255)));
  return Buffer.from(bytes).toString('base64');
}

/** Reads `<dir>/<index>.png` files (regular, PNG signature, at most MAX_EXAMPLE_PNG_BYTES) as data URIs. */
function readExamples(dir: string, indices: ReadonlySet<number>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const m = /^(\d+)\.png$/.exec(name);
    if (!m || !indices.has(Number(m[1]))) continue;
    const png = readCapped(join(dir, name), MAX_EXAMPLE_PNG_BYTES, '--examples');
    if (png.length < 8 || png.readUInt32BE(0) !== 0x89504e47) continue;
    out[m[1]!] = `data:image/png;base64,${png.toString('base64')}`;
  }
  return out;
}

/** What `ablate report` gathers for each results file: `summarize`'s metrics, the rows, thumbnails and examples. */
export async function gatherRun(file: string, options: { dataPath?: string; examples?: string; thumbnails?: boolean } = {}): Promise<ReportRun> {
  // read once: the summary and the rows come from the same bytes, even if the file is replaced meanwhile
  const text = readCapped(file, MAX_REPORT_INPUT_BYTES, 'FILE').toString('utf8');
  const summary = summarize(file, { text });
  const meta = readMeta(file);
  const rows = readRows(text);
  const run: ReportRun = { file, name: basename(file), command: meta?.command ?? null, config: meta?.config ?? null, summary, rows, images: null, adversarial: {} };
  if (options.thumbnails === false) run.imagesNote = 'thumbnails left out (--no-thumbnails)';
  else if (rows.length > MAX_REPORT_THUMBNAILS) run.imagesNote = `more than ${MAX_REPORT_THUMBNAILS} images: thumbnails left out`;
  else {
    try {
      const dataset = await loadDataset(meta?.config as Record<string, unknown> | undefined, file, options.dataPath);
      // sized from the shape before any image is read: a few large images would otherwise make a page of gigabytes
      const bytes = rows.filter((r) => r.index < dataset.size).length * dataset.shape.reduce((a, b) => a * b, 1);
      if (bytes > MAX_REPORT_THUMBNAIL_BYTES) {
        run.imagesNote = `thumbnails left out: ${bytes} bytes of pixels (images of ${dataset.shape.join('×')}), more than the ${MAX_REPORT_THUMBNAIL_BYTES} a report embeds`;
      } else {
        const pixels: Record<string, string> = {};
        for (const r of rows) if (r.index < dataset.size) pixels[String(r.index)] = imageBase64(dataset.get(r.index).image.data);
        run.images = { shape: [...dataset.shape], pixels };
      }
    } catch (error) {
      run.imagesNote = `no thumbnails: cannot load the run's dataset (${(error as Error).message.split('\n')[0]}); pass --data-path`;
    }
  }
  if (summary.attack) {
    const dir = options.examples ?? file.replace(/\.jsonl$/, '') + '-examples';
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      /* no examples folder */
    }
    if (isDir) {
      run.adversarial = readExamples(dir, new Set(rows.map((r) => r.index)));
      run.examplesDir = dir;
    } else if (options.examples) throw new UsageError('--examples', `${dir} is not a folder`, 'give the folder attack --save-examples wrote');
  }
  return run;
}
