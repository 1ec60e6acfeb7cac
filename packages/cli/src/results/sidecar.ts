import * as nodeFs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import { readWholeFile } from '../read-whole.js';

import { describeErrno, pathError } from './file-errors.js';
import type { ModelFingerprint } from './fingerprint.js';

/** Largest sidecar read: 16 MiB (a sidecar is a few KB). */
export const MAX_SIDECAR_BYTES = 16 * 1024 ** 2;

/** Marks a sidecar as written by ablate (format 2: with fingerprint and row keys). */
export const SIDECAR_FORMAT = 'ablate-results';
/** Sidecar version: 2 adds the model fingerprint, the row keys and the dataset size. */
export const SIDECAR_VERSION = 2;

/**
 * Sidecar `<out>.meta.json`: what made a results file — the command, the whole validated effective config, the
 * model's fingerprint and the keys of its rows — for `summarize` and for safe resumes.
 */
export interface RunMeta {
  format: typeof SIDECAR_FORMAT;
  version: number;
  /** `certify`, `predict`, or whatever a writer names its rows (e.g. a distributed coordinator's command). */
  command: string;
  /** e.g. `ablation(k=45)` */
  perturbation: string;
  /** Unit of the radii: `pixels`, `features`, `l2`. */
  unit: string;
  config: object;
  /** sha-256 of the model (null when the classifier has no model path). */
  model: ModelFingerprint | null;
  /** The exact keys of every row, in order. */
  rowKeys: readonly string[];
  /** Number of images of the dataset: every row's index is in [0, datasetSize). */
  datasetSize: number;
  started: string;
}

/**
 * Fields that do not change any result, so a resume may differ in them (JSON pointers into RunMeta): the
 * batch size, the images in flight and execution providers / tfjs backends (each image uses the random stream of
 * its own index, so batching and hardware do not change the votes), the start time, and where the model file lies (its contents
 * are compared through `/model/sha256`). Progress display is not part of the config at all.
 */
export const RESUME_EXEMPT_FIELDS: readonly string[] = [
  '/started',
  '/model/path',
  '/model/files',
  '/config/batchSize',
  '/config/imagesInFlight',
  '/config/classifier/batchSize',
  '/config/classifier/executionProviders',
  '/config/classifier/backends',
];

/** The sidecar path of a results file: `<out>.meta.json`. */
export function metaPath(out: string): string {
  return `${out}.meta.json`;
}

const escapeKey = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1');
const quote = (v: unknown) => {
  const s = v === undefined ? '(absent)' : JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
};

/**
 * The first field (JSON pointer, depth first in the order of `a`'s keys, then keys only in `b`) where two JSON
 * values differ, skipping `exempt` pointers; undefined when they are equal.
 */
export function firstDifference(a: unknown, b: unknown, exempt: readonly string[] = [], path = ''): { path: string; stored: unknown; current: unknown } | undefined {
  if (exempt.includes(path)) return undefined;
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';
  if (isObj(a) && isObj(b) && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !(k in a))];
    for (const k of keys) {
      const d = firstDifference(a[k], b[k], exempt, `${path}/${escapeKey(k)}`);
      if (d) return d;
    }
    return undefined;
  }
  return Object.is(a, b) ? undefined : { path: path || '/', stored: a, current: b };
}

/** Reads and checks a sidecar. Missing → undefined; unreadable, not JSON, not ours → exit 2 naming it. */
export function readSidecar(out: string, options: { flag?: string; fs?: Pick<typeof nodeFs, 'readFileSync'> } = {}): RunMeta | undefined {
  const fs = options.fs ?? nodeFs;
  const flag = options.flag ?? '--out';
  const path = metaPath(out);
  let text: string;
  try {
    const stat = nodeFs.statSync(path, { throwIfNoEntry: false });
    if (stat && !stat.isFile()) throw new UsageError(flag, `the sidecar ${path} is not a regular file; it was left unchanged`, 'move it away, or choose another --out');
    if (stat && stat.size > MAX_SIDECAR_BYTES) throw new UsageError(flag, `the sidecar ${path} is ${stat.size} bytes, more than the ${MAX_SIDECAR_BYTES} a sidecar may have; it was left unchanged`, 'is it the right file? choose another --out');
    text = fs.readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw pathError(flag, path, error, 'the sidecar must be a readable file');
  }
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch (error) {
    throw new UsageError(flag, `the sidecar ${path} is not valid JSON (${(error as Error).message})`, `restore it, or start a new --out (ablate never rewrites a sidecar it cannot read)`);
  }
  const m = meta as Partial<RunMeta> | null;
  if (!m || typeof m !== 'object' || Array.isArray(m)) {
    throw new UsageError(flag, `the sidecar ${path} holds ${quote(meta)}, not an ablate run description`, 'restore it, or start a new --out');
  }
  if (m.format !== SIDECAR_FORMAT) {
    const old = typeof m.command === 'string' && m.config && typeof m.config === 'object';
    throw new UsageError(
      flag,
      old ? `the sidecar ${path} was written by an older ablate, without a model fingerprint, so a resume cannot prove the model is unchanged` : `${path} is not an ablate sidecar`,
      old ? 'start a new --out (summarize still reads the old file)' : 'it is not ours, so it is left alone: move it away, or choose another --out',
    );
  }
  if (typeof m.command !== 'string' || !Array.isArray(m.rowKeys) || !Number.isInteger(m.datasetSize) || !m.config || typeof m.config !== 'object') {
    throw new UsageError(flag, `the sidecar ${path} is incomplete (needs command, config, rowKeys, datasetSize)`, 'restore it, or start a new --out');
  }
  return m as RunMeta;
}

/** Refuses a resume whose run differs from the stored one in any non-exempt field, naming the first one. */
export function checkSameRun(out: string, stored: RunMeta, current: RunMeta, options: { flag?: string; exempt?: readonly string[] } = {}): void {
  // the config (what the user wrote) is compared before fields derived from it (perturbation, unit)
  const ordered = (m: RunMeta) => Object.assign({ format: m.format, version: m.version, command: m.command, config: m.config, model: m.model, rowKeys: m.rowKeys, datasetSize: m.datasetSize }, m);
  // Where the model lies does not matter when its contents are compared (both runs have its sha-256).
  const modelByContent = Boolean(stored.model?.sha256 && current.model?.sha256);
  const exempt = [...RESUME_EXEMPT_FIELDS, ...(modelByContent ? ['/config/classifier/model'] : []), ...(options.exempt ?? [])];
  const diff = firstDifference(ordered(stored), ordered(current), exempt);
  if (!diff) return;
  const what =
    diff.path === '/model/sha256'
      ? `the model ${current.model?.path ?? ''} changed since ${out} was started (sha-256 ${String(diff.stored).slice(0, 12)}… then, ${String(diff.current).slice(0, 12)}… now)`
      : `${out} was written by a different run: ${diff.path} was ${quote(diff.stored)}, this run has ${quote(diff.current)}`;
  throw new UsageError(options.flag ?? '--resume', what, `compare ${metaPath(out)} with your flags, or write to another --out`);
}

/** Writes the sidecar atomically (private temp file, fsync, rename), so it is never seen half-written. */
export function writeSidecar(out: string, meta: RunMeta, options: { flag?: string; fs?: typeof nodeFs } = {}): void {
  const fs = options.fs ?? nodeFs;
  const path = metaPath(out);
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fd = fs.openSync(temp, 'wx');
    try {
      fs.writeFileSync(fd, `${JSON.stringify(meta, null, 2)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, path);
  } catch (error) {
    try {
      fs.unlinkSync(temp);
    } catch {
      /* not created */
    }
    if (error instanceof UsageError) throw error;
    throw pathError(options.flag ?? '--out', path, error, `the sidecar could not be written (${describeErrno(error)})`);
  }
}

/**
 * The sidecar as `summarize` needs it (perturbation, unit), also from sidecars of older versions; undefined
 * when there is none. A corrupt or `null` sidecar is an exit-2 error naming it.
 */
export function readMeta(out: string): Pick<RunMeta, 'command' | 'perturbation' | 'unit'> & Partial<RunMeta> | undefined {
  const path = metaPath(out);
  if (!nodeFs.existsSync(path)) return undefined;
  // a regular file of at most MAX_SIDECAR_BYTES (a FIFO or device named like a sidecar is refused, never read)
  const text = readWholeFile(path, { flag: 'FILE', maxBytes: MAX_SIDECAR_BYTES }).toString('utf8');
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch (error) {
    throw new UsageError('FILE', `the sidecar ${path} is not valid JSON (${(error as Error).message})`, 'restore or delete it');
  }
  const m = meta as Partial<RunMeta> | null;
  if (!m || typeof m !== 'object' || Array.isArray(m) || typeof m.perturbation !== 'string' || typeof m.unit !== 'string') {
    throw new UsageError('FILE', `the sidecar ${path} holds ${quote(meta)}, not an ablate run description`, 'restore or delete it');
  }
  return m as RunMeta;
}
