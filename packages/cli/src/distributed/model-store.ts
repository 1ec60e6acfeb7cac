import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { readFully } from '@ablate/core/node';
import { homedir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import type { Redis } from 'ioredis';
import { UsageError } from '../errors.js';

/** Seconds a stored model lives in Redis without a coordinator refreshing it. */
export const MODEL_TTL_SECONDS = 3600;

/** The Redis key of a model's bytes: content-addressed by their sha-256. */
export const modelKey = (sha256: string) => `ablate:model:${sha256}`;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []))
    .sort();
}

/**
 * The model's fingerprint: sha-256 of its bytes; for a folder (a tfjs model), sha-256 over each file's relative
 * name and sha-256, in sorted order. Cached per path, size and modification time. For the coordinator's own model
 * (its operator named it); a worker reads job-named models only through `readModelUnderRoots`.
 */
const fingerprints = new Map<string, string>();
export function modelFingerprint(path: string): string {
  const st = statSync(path);
  const key = `${path}\0${st.size}\0${st.mtimeMs}`;
  let fp = fingerprints.get(key);
  if (fp === undefined) {
    try {
      if (st.isDirectory()) {
        const h = createHash('sha256');
        for (const f of filesUnder(path)) h.update(`${relative(path, f)}\0${hashRegularFile(f, Number.MAX_SAFE_INTEGER).sha}\n`);
        fp = h.digest('hex');
      } else fp = hashRegularFile(path, Number.MAX_SAFE_INTEGER).sha;
    } catch (error) {
      if (error instanceof NotAModelFile) throw new UsageError('--model', `${path} is not a regular file (nor a folder of them)`, 'name the model file');
      throw error;
    }
    fingerprints.set(key, fp);
  }
  return fp;
}

/** A file that is not a regular file, is too large, or vanished: one reason, never which. */
class NotAModelFile extends Error {}

/**
 * sha-256 of a regular file, read through one descriptor opened with O_NOFOLLOW|O_NONBLOCK (a FIFO or device never
 * blocks, a link is never followed), checked with fstat to be a regular file of at most `maxBytes`, read in 1 MiB
 * chunks (memory stays bounded whatever the file), and refused when it grew past its fstat size while read.
 */
function hashRegularFile(path: string, maxBytes: number): { sha: string; size: number; stat: Stats } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    throw new NotAModelFile();
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > maxBytes) throw new NotAModelFile();
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(1, st.size)));
    let total = 0;
    for (;;) {
      const got = readSync(fd, buf, 0, buf.length, null);
      if (got === 0) break;
      total += got;
      if (total > st.size) throw new NotAModelFile();
      h.update(buf.subarray(0, got));
    }
    return { sha: h.digest('hex'), size: total, stat: st };
  } finally {
    closeSync(fd);
  }
}

/** Most files a model folder (tfjs) under a --model-root may hold. */
const MAX_MODEL_FILES = 10_000;

/**
 * The regular files below a folder, sorted, for a job-named model: anything else inside (a link, a FIFO, a device)
 * refuses the whole folder, since the backend loading it would follow links that the fingerprint did not cover.
 */
function strictFilesUnder(dir: string, budget: { left: number }): string[] {
  const files: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (--budget.left < 0) throw new NotAModelFile();
    if (e.isDirectory()) files.push(...strictFilesUnder(join(dir, e.name), budget));
    else if (e.isFile()) files.push(join(dir, e.name));
    else throw new NotAModelFile();
  }
  return files.sort();
}

/** Fingerprints of model files under the roots already hashed, by resolved path and identity. */
const rootFiles = new Map<string, { id: string; sha: string }>();

/**
 * A worker's reading of a model a job names by path (`--model-transfer shared`): allowed only under one of the
 * worker's `--model-root` folders (after resolving every link), only regular files (a tfjs folder: only regular files
 * and folders inside, at most 10 000 entries), at most `maxBytes` in all. Returns the resolved path and its fingerprint.
 * Every refusal (missing, outside the roots, not a regular file, too large, unreadable) is the same message, so a
 * job learns nothing about files it may not read; the fingerprint of a refused path is never computed.
 */
export function readModelUnderRoots(path: string, roots: readonly string[], maxBytes: number): { path: string; sha256: string } {
  const refuse = () =>
    new ModelFetchError(
      roots.length === 0
        ? 'this worker reads models only from Redis (it was started without --model-root), so it refuses jobs with --model-transfer shared'
        : `the model path is not a regular model file of at most ${maxBytes} bytes under this worker's --model-root folders`,
    );
  if (roots.length === 0) throw refuse();
  const real = resolveUnderRoots(path, roots, refuse);
  try {
    const st = lstatSync(real);
    if (st.isFile()) {
      // Hashed again whenever the file's identity (inode, size, times) changes; a file over the cap is refused first.
      if (st.size <= maxBytes && rootFiles.get(real)?.id === identity(st)) return { path: real, sha256: rootFiles.get(real)!.sha };
      const r = hashRegularFile(real, maxBytes);
      rootFiles.set(real, { id: identity(r.stat), sha: r.sha });
      return { path: real, sha256: r.sha };
    }
    if (!st.isDirectory()) throw refuse();
    const h = createHash('sha256');
    let budget = maxBytes;
    for (const f of strictFilesUnder(real, { left: MAX_MODEL_FILES })) {
      const r = hashRegularFile(f, budget);
      budget -= r.size;
      h.update(`${relative(real, f)}\0${r.sha}\n`);
    }
    return { path: real, sha256: h.digest('hex') };
  } catch (error) {
    if (error instanceof ModelFetchError) throw error;
    throw refuse();
  }
}

/**
 * A job's dataset folder (`dataset.path`): allowed only when it resolves (every link followed) to a folder under one
 * of the worker's `--model-root` folders; returns the resolved path. Every refusal is the same message.
 */
export function datasetUnderRoots(path: string, roots: readonly string[]): string {
  const refuse = () => new ModelFetchError("the job's dataset path is not a folder under this worker's --model-root folders");
  const real = resolveUnderRoots(path, roots, refuse);
  try {
    if (!lstatSync(real).isDirectory()) throw refuse();
    // The dataset's loader follows links inside the folder: each must also resolve under the roots (to a file or a
    // folder, itself checked the same way), and nothing else (a FIFO, a device) may be there.
    checkTreeUnderRoots(real, roots, { left: MAX_DATASET_ENTRIES }, new Set([real]));
  } catch {
    throw refuse();
  }
  return real;
}

/** Most entries (files, folders, links) a job-named dataset folder may hold, counted over the whole tree. */
const MAX_DATASET_ENTRIES = 2_000_000;

const underRoots = (real: string, roots: readonly string[]) => roots.some((root) => real.startsWith(root.endsWith(sep) ? root : root + sep));

/** `path` with every link resolved, when that lies under one of `roots`; otherwise (or unresolvable) `refuse()` is thrown. */
function resolveUnderRoots(path: string, roots: readonly string[], refuse: () => Error): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw refuse();
  }
  if (!underRoots(real, roots)) throw refuse();
  return real;
}

/** Throws when an entry below `dir` is a link resolving outside the roots, or is neither a file nor a folder. */
function checkTreeUnderRoots(dir: string, roots: readonly string[], budget: { left: number }, seen: Set<string>): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (--budget.left < 0) throw new NotAModelFile();
    const path = join(dir, e.name);
    if (e.isFile()) continue;
    if (e.isDirectory()) {
      checkTreeUnderRoots(path, roots, budget, seen);
      continue;
    }
    if (!e.isSymbolicLink()) throw new NotAModelFile();
    const target = realpathSync(path);
    if (!underRoots(target, roots)) throw new NotAModelFile();
    const st = statSync(target);
    if (st.isDirectory()) {
      if (!seen.has(target)) {
        seen.add(target);
        checkTreeUnderRoots(target, roots, budget, seen);
      }
    } else if (!st.isFile()) throw new NotAModelFile();
  }
}

/**
 * The worker's `--model-root` folders, resolved at start: each must be an existing folder (an error naming the flag
 * otherwise), so a job's path is compared against real paths.
 */
export function resolveModelRoots(roots: readonly string[]): string[] {
  return roots.map((root) => {
    let real: string;
    try {
      real = realpathSync(root);
    } catch {
      throw new UsageError('--model-root', `${root} does not exist`, 'name a folder that holds the models jobs may use');
    }
    if (!statSync(real).isDirectory()) throw new UsageError('--model-root', `${root} is not a folder`, 'name a folder that holds the models jobs may use');
    return real;
  });
}

/**
 * The coordinator's model file, read whole for Redis: a regular file (O_NOFOLLOW|O_NONBLOCK, fstat) of at most
 * `maxBytes`, whose bytes must hash to `fingerprint` (a model replaced between fingerprint and read is refused).
 */
export function readModelBytes(path: string, maxBytes: number, fingerprint: string): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UsageError('--model', `${path} is not a regular file`, 'name the model file');
    if (st.size > maxBytes) throw new UsageError('--model-transfer', `${path} is ${st.size} bytes, over --max-model-bytes ${maxBytes}`, 'put the model on storage every worker mounts, start the workers with --model-root FOLDER and pass --model-transfer shared');
    const bytes = Buffer.alloc(st.size);
    if (readFully(fd, bytes) !== st.size || sha256(bytes) !== fingerprint) throw new UsageError('--model', `${path} changed while it was being read`, 'run again once the model file is complete');
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/**
 * Stores model bytes under their fingerprint, with a TTL the coordinator refreshes while it runs. Always written
 * (not SET NX): bytes someone else stored under that key are replaced, not trusted.
 */
export async function putModel(redis: Redis, bytes: Uint8Array, fingerprint: string): Promise<void> {
  await redis.set(modelKey(fingerprint), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'EX', MODEL_TTL_SECONDS);
}

/** Why a worker could not get a model (the job is retried; another attempt, maybe elsewhere, may succeed). */
export class ModelFetchError extends Error {}

/** The default model cache: `$XDG_CACHE_HOME/ablate/models`, else `~/.cache/ablate/models`. */
export function defaultModelCache(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'ablate', 'models');
}

/**
 * Prepares the worker's model cache at start: created owner-only (0700) when missing; an existing one must be a real
 * folder (not a link), owned by this user and writable by no one else. Anything else is an error naming
 * `--model-cache`, before the worker connects.
 */
export function prepareModelCache(dir: string): string {
  try {
    lstatSync(dir);
  } catch {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new UsageError('--model-cache', `cannot create the folder ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 'name a folder this user owns, or leave the flag out for ~/.cache/ablate/models');
    }
  }
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new UsageError('--model-cache', `${dir} is not a folder`, 'name a folder this user owns, or leave the flag out for ~/.cache/ablate/models');
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new UsageError('--model-cache', `${dir} belongs to user ${st.uid}, not to this user (${uid})`, 'use a folder this user owns');
  if ((st.mode & 0o022) !== 0) throw new UsageError('--model-cache', `${dir} is writable by other users (mode ${(st.mode & 0o777).toString(8)})`, `chmod go-w ${dir}, or use another folder`);
  // Whoever may rename entries of a folder above it can swap the cache for a folder (or link) of theirs after this
  // check: every ancestor must belong to this user or root, and be writable by no one else unless sticky (/tmp).
  if (uid !== undefined) {
    for (let a = dirname(realpathSync(dir)); ; a = dirname(a)) {
      const up = statSync(a);
      if (up.uid !== uid && up.uid !== 0) throw new UsageError('--model-cache', `${dir} lies in ${a}, which belongs to user ${up.uid}: that user could replace the cache folder`, 'use a folder whose parents belong to this user or root, e.g. leave the flag out for ~/.cache/ablate/models');
      if ((up.mode & 0o022) !== 0 && (up.mode & 0o1000) === 0) throw new UsageError('--model-cache', `${dir} lies in ${a}, which others may write to (mode ${(up.mode & 0o777).toString(8)}, not sticky): they could replace the cache folder`, 'use a folder whose parents only this user or root may change');
      if (dirname(a) === a) break;
    }
  }
  return dir;
}

/** Cache files already verified, by identity: re-hashed only when they change. */
const verified = new Map<string, string>();
const identity = (st: Stats) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;

/**
 * A worker's local copy of a model stored in Redis: `<cacheDir>/<sha256>.model`. A file already there is used only
 * when it is a regular file (not followed if a link) whose bytes hash to its name (re-hashed whenever its identity
 * changes); anything else there is removed and fetched again. A fetched model is checked against the fingerprint,
 * written to a fresh temporary (O_CREAT|O_EXCL|O_NOFOLLOW, random name, 0600), fsync'ed and renamed into place.
 */
export async function fetchModel(redis: Redis, fingerprint: string, cacheDir: string, maxBytes: number): Promise<string> {
  const file = join(cacheDir, `${fingerprint}.model`);
  try {
    const st = lstatSync(file);
    if (st.isFile() && verified.get(file) === identity(st)) return file;
    const r = hashRegularFile(file, maxBytes);
    if (r.sha === fingerprint) {
      verified.set(file, identity(r.stat));
      return file;
    }
  } catch {
    // missing, or not a regular file: fetched again below
  }
  verified.delete(file);
  try {
    if (lstatSync(file)) unlinkSync(file);
  } catch {
    // nothing there
  }
  const size = await redis.strlen(modelKey(fingerprint));
  if (size === 0) throw new ModelFetchError(`model ${fingerprint.slice(0, 12)}… is not in Redis (expired or lost; its coordinator stores it again while it runs)`);
  if (size > maxBytes) throw new ModelFetchError(`model ${fingerprint.slice(0, 12)}… is ${size} bytes, over this worker's --max-model-bytes ${maxBytes}`);
  const bytes = await redis.getBuffer(modelKey(fingerprint));
  if (!bytes) throw new ModelFetchError(`model ${fingerprint.slice(0, 12)}… vanished from Redis while being read`);
  if (bytes.length > maxBytes) throw new ModelFetchError(`model ${fingerprint.slice(0, 12)}… is ${bytes.length} bytes, over this worker's --max-model-bytes ${maxBytes}`);
  const got = sha256(bytes);
  if (got !== fingerprint) throw new ModelFetchError(`model fingerprint mismatch: the bytes stored for ${fingerprint.slice(0, 12)}… do not hash to it; refusing them`);
  const tmp = join(cacheDir, `.${fingerprint.slice(0, 16)}.${randomBytes(8).toString('hex')}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(tmp);
    throw error;
  }
  closeSync(fd);
  renameSync(tmp, file);
  verified.set(file, identity(lstatSync(file)));
  return file;
}
