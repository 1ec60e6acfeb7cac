import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Redis } from 'ioredis';

/** Seconds a stored model lives in Redis without a coordinator refreshing it. */
export const MODEL_TTL_SECONDS = 3600;

export const modelKey = (sha256: string) => `ablate:model:${sha256}`;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []))
    .sort();
}

/**
 * The model's fingerprint: sha-256 of its bytes; for a folder (a tfjs model), sha-256 over each file's relative
 * name and sha-256, in sorted order. Cached per path, size and modification time.
 */
const fingerprints = new Map<string, string>();
export function modelFingerprint(path: string): string {
  const st = statSync(path);
  const key = `${path}\0${st.size}\0${st.mtimeMs}`;
  let fp = fingerprints.get(key);
  if (fp === undefined) {
    if (st.isDirectory()) {
      const h = createHash('sha256');
      for (const f of filesUnder(path)) h.update(`${relative(path, f)}\0${sha256(readFileSync(f))}\n`);
      fp = h.digest('hex');
    } else fp = sha256(readFileSync(path));
    fingerprints.set(key, fp);
  }
  return fp;
}

/** Stores model bytes once per fingerprint (SET NX with a TTL the coordinator refreshes while it runs). */
export async function putModel(redis: Redis, bytes: Uint8Array, fingerprint: string): Promise<void> {
  await redis.set(modelKey(fingerprint), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'EX', MODEL_TTL_SECONDS, 'NX');
  await redis.expire(modelKey(fingerprint), MODEL_TTL_SECONDS);
}

/** Why a worker could not get a model from Redis (the job is retried; another attempt may succeed). */
export class ModelFetchError extends Error {}

/**
 * A worker's local copy of a model stored in Redis: `<cacheDir>/<sha256>.model`, written atomically after its
 * bytes were checked against the fingerprint, so a file in the cache is always the model it is named after.
 */
export async function fetchModel(redis: Redis, fingerprint: string, cacheDir: string, maxBytes: number): Promise<string> {
  const file = join(cacheDir, `${fingerprint}.model`);
  if (existsSync(file)) return file;
  const size = await redis.strlen(modelKey(fingerprint));
  if (size === 0) throw new ModelFetchError(`model ${fingerprint.slice(0, 12)}… is not in Redis (expired or lost; its coordinator stores it again while it runs)`);
  if (size > maxBytes) throw new ModelFetchError(`model ${fingerprint.slice(0, 12)}… is ${size} bytes, over this worker's --max-model-bytes ${maxBytes}`);
  const bytes = await redis.getBuffer(modelKey(fingerprint));
  if (!bytes) throw new ModelFetchError(`model ${fingerprint.slice(0, 12)}… vanished from Redis while being read`);
  const got = sha256(bytes);
  if (got !== fingerprint) throw new ModelFetchError(`model fingerprint mismatch: the bytes stored for ${fingerprint.slice(0, 12)}… hash to ${got.slice(0, 12)}…; refusing them`);
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
  return file;
}
