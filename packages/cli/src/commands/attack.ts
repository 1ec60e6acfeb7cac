import { closeSync, linkSync, lstatSync, openSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { readFully } from '@ablate/core/node';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { baseClassifierDecider, confirmDecider, createContainer, createSlot, inFlightInOrder, predictDecider, registry, validateConfig, type AblateRuntime, type AttackProgress, type Decide, type SlotConfig } from '@ablate/core';
import { encodePng } from '@ablate/datasets';
import { effectiveConfig } from '../config.js';
import { predictSampleCount } from '../predict-samples.js';
import { UsageError } from '../errors.js';
import { ResultsFile, SIDECAR_FORMAT, SIDECAR_VERSION, modelFingerprint } from '../results/index.js';
import { prepareOutputFolder } from '../results/output-folder.js';
import { createProgress } from '../progress.js';
import type { DatasetRunOptions } from './run-dataset.js';

export type AttackTarget = 'smoothed' | 'base';

export interface AttackOptions extends DatasetRunOptions {
  restarts?: number;
  saveExamples?: string;
  fixedSamples?: boolean;
  target?: AttackTarget;
  /** `--confirm-n N`: samples of the confirming PREDICT (target smoothed; default the paper's 10 000). */
  confirmN?: number;
}

/** The paper's PREDICT sample count (Table 2: "10,000 samples"), the default of `--confirm-n`. */
export const PAPER_PREDICT_N = 10_000;

/** An attack row, exactly as other tools read it. magnitude: pixel locations changed; 0 = misclassified original; null = none found. */
export interface AttackRow {
  index: number;
  label: number;
  magnitude: number | null;
  restarts: number;
  queries: number;
  samples: number;
  seconds: number;
}

/**
 * An attack row on the smoothed classifier (target smoothed): also the confirmation of the reported example
 * (`confirmed`: the fresh PREDICT's n, answer, top-two votes, p-value and its confirmation number `attempt`,
 * whose stream is `confirmStream(index, attempt)` in SUBSTREAM.confirm; null when none was confirmed), the
 * smallest magnitude the search reached before confirmation (`searchMagnitude`) and the confirming queries asked
 * (`confirmations`; their samples are in `samples`, not their count in `queries`).
 */
export interface ConfirmedAttackRow extends AttackRow {
  confirmed: { n: number; prediction: number | null; nA: number | null; nB: number | null; pValue: number | null; attempt: number } | null;
  searchMagnitude: number | null;
  confirmations: number;
}

/** The keys of an attack row, in order (the sidecar records them; a resume checks every row has exactly these). */
export const ATTACK_ROW_KEYS = ['index', 'label', 'magnitude', 'restarts', 'queries', 'samples', 'seconds'] as const;
/** The keys of a confirmed attack row (target smoothed), in order. */
export const CONFIRMED_ATTACK_ROW_KEYS = ['index', 'label', 'magnitude', 'confirmed', 'searchMagnitude', 'confirmations', 'restarts', 'queries', 'samples', 'seconds'] as const;

/**
 * The oracle every search query asks, the confirming oracle, and their names for the results' sidecar.
 *  - target `smoothed`: the smoothed classifier's PREDICT with α = certifier.alpha, "misclassified or abstained"
 *    being adversarial (Levine & Feizi 2020, Table 2), with n = PREDICT's sample count (`predictSampleCount`:
 *    `--predict-n`, else a sequential certifier's maxSamples, else certifier.n). By default the sequential test
 *    (stops once the top class is decided, at most n samples); `--fixed-samples`: exactly n per query. The search's oracle only
 *    guides the search: every reported example is confirmed by `confirmDecider` (a fresh PREDICT with exactly
 *    `confirmN` samples, the paper's 10 000 by default, from its own substream).
 *  - target `base`: the base classifier's argmax on the clean image (an undefended model, one pass per query);
 *    deterministic, so a query is its own confirmation (no confirming oracle).
 */
export function chooseDecider(
  rt: AblateRuntime,
  options: { target: AttackTarget; fixedSamples: boolean; confirmN?: number },
): { decide: Decide; decision: string; confirm?: Decide; confirmation?: string } {
  if (options.target === 'base') return { decide: baseClassifierDecider(rt.classifier, rt.encoder), decision: `base classifier argmax (${rt.encoder.describe()})` };
  const n = predictSampleCount(rt.config) ?? rt.certifier.n;
  const confirmN = options.confirmN ?? PAPER_PREDICT_N;
  const confirm = { confirm: confirmDecider(rt.smoothed, { n: confirmN }), confirmation: `PREDICT, fixed n = ${confirmN}, alpha = ${rt.certifier.alpha}, substream confirm` };
  if (options.fixedSamples) return { decide: predictDecider(rt.smoothed, { n }), decision: `PREDICT, fixed n = ${n}, alpha = ${rt.certifier.alpha}`, ...confirm };
  return { decide: predictDecider(rt.smoothed, { sequential: true, n }), decision: `sequential PREDICT, at most n = ${n}, alpha = ${rt.certifier.alpha}`, ...confirm };
}

/** The private temporaries of writeExampleExclusive (a run killed between writing and removing one leaves it). */
const TEMP_NAME = /^\.[0-9a-f]{12}\.png\.tmp$/;

/** Whether `file` is a regular file holding exactly `bytes` (never follows a link, never opens a pipe or device). */
function holdsExactly(file: string, bytes: Buffer): boolean {
  const stat = lstatSync(file, { throwIfNoEntry: false });
  if (!stat?.isFile() || stat.size !== bytes.length) return false;
  const fd = openSync(file, 'r');
  try {
    const existing = Buffer.alloc(bytes.length);
    return readFully(fd, existing) === bytes.length && existing.equals(bytes);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes an example PNG whole or not at all, and never replaces a file: the bytes go to a private temporary
 * (exclusive create), which is then hard-linked to `file` — that fails if `file` exists. An existing `file` is
 * accepted only if it holds exactly these bytes (a resumed run recomputes the same example, so the one a killed
 * run wrote before its row is identical); anything else is a foreign file: a UsageError, left unchanged.
 */
export function writeExampleExclusive(file: string, bytes: Buffer): void {
  const temp = join(file, '..', `.${randomBytes(6).toString('hex')}.png.tmp`);
  writeFileSync(temp, bytes, { flag: 'wx' });
  try {
    try {
      linkSync(temp, file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
      writeFileSync(file, bytes, { flag: 'wx' }); // a file system without hard links: exclusive create
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    if (!holdsExactly(file, bytes)) {
      throw new UsageError('--save-examples', `${file} exists and is not the example this run computed; it was left unchanged`, 'ablate never replaces a file it did not write: move it away, or give a new --save-examples folder');
    }
  } finally {
    unlinkSync(temp);
  }
}

/**
 * Before any image of a resumed attack: `<index>.png` files in the examples folder for indices the results file
 * does not hold yet. Only one can be ablate's (the image a killed run was on, written just before its row); more
 * are foreign files, refused up front (each is also checked byte for byte before it would be written).
 */
function checkPendingExamples(folder: string, todo: readonly number[]): void {
  const pending = new Set(todo);
  const found = readdirSync(folder).filter((e) => /^\d+\.png$/.test(e) && pending.has(Number(e.slice(0, -4))));
  if (found.length > 1) {
    throw new UsageError('--save-examples', `${folder} holds ${found.slice(0, 3).join(', ')}${found.length > 3 ? ', …' : ''} for images the results file has no row of; it was left unchanged`, 'a resumed run never replaces examples it cannot prove it wrote: move them away, or give a new folder');
  }
}

/**
 * `ablate attack`: runs the config's attack (default: pointwise, 10 restarts) on a slice of the dataset, one JSON
 * line per image to --out (flushed, resumable) or stdout, the best adversarial example of each image to
 * --save-examples DIR/<index>.png. Each image's restarts and queries use random streams of their own, so a
 * resumed run writes exactly what an uninterrupted one would have.
 */
export async function attackCommand(options: AttackOptions, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream }): Promise<void> {
  if (options.resume && !options.out) throw new UsageError('--resume', 'needs --out FILE.jsonl to resume', 'e.g. --out attack.jsonl --resume');
  const { config, baseDir } = effectiveConfig(options.config, options);
  config.attack = { type: 'pointwise', ...(config.attack ?? {}) };
  if (options.restarts !== undefined) config.attack.restarts = options.restarts;
  // Refused before any file is created: the config (all of it) and a certifier the attack's oracle can use.
  await checkAttackable(config, baseDir, options.target ?? 'smoothed');
  // The results file and the examples folder are checked (and the file locked) before the model and data load:
  // the guarantees of certify. The folder must be new or empty, or on --resume hold only <index>.png files.
  const writer = options.out ? ResultsFile.open(options.out, { resume: options.resume ?? false }) : undefined;
  try {
    if (options.saveExamples) {
      prepareOutputFolder('--save-examples', options.saveExamples, 'attack writes <index>.png files into a folder', options.resume ? (e) => /^\d+\.png$/.test(e) || TEMP_NAME.test(e) : undefined);
    }
  } catch (error) {
    writer?.close();
    throw error;
  }
  try {
    await runAttack(options, io, config, baseDir, writer);
  } finally {
    writer?.close();
  }
}

/**
 * Validates the config and refuses a deterministic certifier (vote-gap) for an attack on the smoothed classifier:
 * its exact vote counting has no α and no sample count, so the attack's PREDICT oracle is undefined for it.
 */
async function checkAttackable(config: ReturnType<typeof effectiveConfig>['config'], baseDir: string, target: AttackTarget): Promise<void> {
  const valid = validateConfig<{ certifier: SlotConfig }>(config, registry);
  if (target !== 'smoothed') return;
  const certifier = await createSlot(registry, 'certifier', valid.certifier, { baseDir, warn: () => undefined });
  if (certifier.deterministic) {
    throw new UsageError(
      '--certifier',
      `attack does not support the ${valid.certifier.type} certifier: it counts every ablation exactly (no α, no sample count), so the attack's PREDICT oracle is undefined for it`,
      'attack with a randomized certifier (cohen, lecuyer or sequential), or attack the base model with --target base',
    );
  }
}

async function runAttack(
  options: AttackOptions,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream },
  config: ReturnType<typeof effectiveConfig>['config'],
  baseDir: string,
  writer: ResultsFile | undefined,
): Promise<void> {
  const target = options.target ?? 'smoothed';
  const rt = await createContainer(config, { baseDir, warn: (m) => io.stderr.write(`warning: ${m}\n`) });
  try {
    const dataset = rt.dataset;
    if (!dataset) throw new UsageError('--dataset', 'the config names no dataset', 'add "dataset": {"type": "mnist"} or pass --dataset mnist');
    if (dataset.shape[0] !== 1 && dataset.shape[0] !== 3 && options.saveExamples) {
      throw new UsageError('--save-examples', `${dataset.name} has ${dataset.shape[0]} channels; PNG examples need 1 or 3`);
    }
    const attack = rt.attack!;
    const start = options.start ?? 0;
    if (start >= dataset.size) throw new UsageError('--start', `${start} is past the end of ${dataset.name} (${dataset.size} images)`);
    const count = Math.min(options.count ?? dataset.size - start, dataset.size - start);
    if (target === 'base' && options.confirmN !== undefined) {
      throw new UsageError('--confirm-n', 'confirms examples against the smoothed classifier; --target base is deterministic and has no confirming PREDICT', 'drop --confirm-n, or attack --target smoothed');
    }
    if (target === 'base' && rt.smoothed.imagesInFlight > 1) {
      throw new UsageError('--images-in-flight', `applies to --target smoothed only (got ${rt.smoothed.imagesInFlight} with --target base, whose queries are single forward passes of the model)`, 'drop --images-in-flight (or imagesInFlight in the config) for --target base');
    }
    const { decide, decision, confirm, confirmation } = chooseDecider(rt, { target, fixedSamples: options.fixedSamples ?? false, confirmN: options.confirmN });
    // The target and the query oracle are part of the run: a resume with another is refused like any config change.
    writer?.prepare({
      format: SIDECAR_FORMAT,
      version: SIDECAR_VERSION,
      command: 'attack',
      perturbation: target === 'base' ? 'undefended base classifier' : rt.perturbation.describe(),
      unit: 'pixels',
      config: { ...rt.config, target, decision, ...(confirmation ? { confirmation } : {}), attackDescription: attack.describe() },
      model: modelFingerprint(rt.config.classifier.model, baseDir) ?? null,
      rowKeys: confirm ? CONFIRMED_ATTACK_ROW_KEYS : ATTACK_ROW_KEYS,
      datasetSize: dataset.size,
      started: new Date().toISOString(),
    });
    const indices = Array.from({ length: count }, (_, i) => start + i);
    const todo = indices.filter((i) => !writer?.done.has(i));
    if (options.saveExamples && options.resume) checkPendingExamples(options.saveExamples, todo);
    const progress = createProgress(count, count - todo.length, io.stderr, { name: 'attack' });
    // One image's attack (its queries draw from streams of its own index, so running several at once changes no row).
    const attackOne = async (index: number, signal: AbortSignal) => {
      const { image, label } = (await dataset.getAsync?.(index)) ?? dataset.get(index);
      const t0 = performance.now();
      const onProgress = (p: AttackProgress) =>
        progress.status(
          `image ${index}: restart ${p.restart + 1}/${p.restarts}, ${p.stage}, ${p.magnitude === null ? 'no adversarial yet' : `${p.magnitude} pixels`}` +
            `${p.best === null ? '' : `, best ${p.best}`}; ${p.queries} queries, ${p.samples} samples, ${((performance.now() - t0) / 1000).toFixed(0)} s`,
        );
      const r = await attack.run(image, label, decide, { index, seed: rt.smoothed.seed, onProgress, signal, ...(confirm ? { confirm } : {}) });
      return { index, label, r, seconds: Math.round(performance.now() - t0) / 1000 };
    };
    // --images-in-flight K (config imagesInFlight): K images attacked at once, their queries' samples merged into
    // shared batches by the smoothed classifier; rows and examples are written in index order.
    const inFlight = rt.smoothed.imagesInFlight;
    try {
      for await (const { index, label, r, seconds } of inFlightInOrder(todo, inFlight, attackOne)) {
        const c = r.confirmation;
        if (confirm && !c) throw new UsageError('attack', `the attack ${attack.describe()} ignored the confirming oracle`, 'a plug-in attack must honour AttackRunOptions.confirm and return `confirmation`');
        const row: AttackRow | ConfirmedAttackRow = c
          ? {
              index,
              label,
              magnitude: r.magnitude,
              confirmed: c.confirmed && { n: c.confirmed.n, prediction: c.confirmed.prediction, nA: c.confirmed.nA ?? null, nB: c.confirmed.nB ?? null, pValue: c.confirmed.pValue ?? null, attempt: c.confirmed.attempt },
              searchMagnitude: c.searchMagnitude,
              confirmations: c.confirmations,
              restarts: r.restarts,
              queries: r.queries,
              samples: r.samples,
              seconds,
            }
          : { index, label, magnitude: r.magnitude, restarts: r.restarts, queries: r.queries, samples: r.samples, seconds };
        if (options.saveExamples && r.adversarial) writeExampleExclusive(join(options.saveExamples, `${index}.png`), encodePng(r.adversarial));
        if (writer) writer.append(row);
        else io.stdout.write(`${JSON.stringify(row)}\n`);
        const walked = c && c.searchMagnitude !== null && r.magnitude !== c.searchMagnitude ? ` (search ended at ${c.searchMagnitude}, unconfirmed; ${c.confirmations} confirmations)` : '';
        const outcome = (r.magnitude === null ? (c && c.searchMagnitude !== null ? 'no adversarial confirmed' : 'no adversarial found') : r.magnitude === 0 ? `already ${r.prediction === null ? 'abstained' : `misclassified as ${r.prediction}`}` : `adversarial at ${r.magnitude} pixels → ${r.prediction ?? 'abstain'}${c ? ' (confirmed)' : ''}`) + walked;
        progress.tick({ index, samples: r.samples, line: `image ${index}: label ${label}, ${outcome} (${r.queries} queries, ${seconds.toFixed(1)} s)` });
      }
    } finally {
      // (leaving the loop — a failure, a row that cannot be written — has already stopped and awaited the images
      // still running: inFlightInOrder)
      progress.stop();
    }
  } finally {
    await rt.dispose();
  }
}
