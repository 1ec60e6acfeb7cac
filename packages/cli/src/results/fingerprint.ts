import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** The sha-256 fingerprint of a model, recorded in the sidecar so a model replaced in place is caught on resume. */
export interface ModelFingerprint {
  /** Absolute path of the file or folder hashed. */
  path: string;
  /** Hex sha-256: of the file; for a folder (tfjs), of the sorted list of `relative path, sha-256 of the file`. */
  sha256: string;
  /** The files hashed, relative to `path` for a folder (model.json and the weight files its manifest names). */
  files: string[];
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Files of a tfjs model: model.json plus the weight files its manifest names; all regular files if unreadable. */
function tfjsFiles(folder: string, modelJson: string): string[] {
  try {
    const json = JSON.parse(readFileSync(modelJson, 'utf8')) as { weightsManifest?: { paths?: string[] }[] };
    const weights = (json.weightsManifest ?? []).flatMap((g) => g.paths ?? []).map((p) => resolve(dirname(modelJson), p));
    return [modelJson, ...weights];
  } catch {
    return readdirSync(folder)
      .map((f) => join(folder, f))
      .filter((f) => statSync(f).isFile());
  }
}

/**
 * Fingerprints the model a config names (`classifier.model`, resolved against `baseDir`): the sha-256 of the
 * file, or for a folder / model.json (tfjs) a sha-256 over the sorted (relative name, file sha-256) pairs of
 * model.json and its weight files — deterministic, independent of listing order. Returns undefined when the
 * classifier has no model path (a plug-in that loads its model otherwise). One read of the model per run.
 */
export function modelFingerprint(model: unknown, baseDir: string): ModelFingerprint | undefined {
  if (typeof model !== 'string' || model === '') return undefined;
  const path = resolve(baseDir, model);
  const stat = statSync(path);
  if (stat.isFile() && !path.endsWith('.json')) return { path, sha256: sha256(readFileSync(path)), files: [path] };
  const folder = stat.isDirectory() ? path : dirname(path);
  const files = tfjsFiles(folder, stat.isDirectory() ? join(path, 'model.json') : path);
  const entries = files
    .map((f) => [relative(folder, f).split(sep).join('/'), sha256(readFileSync(f))] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { path, sha256: sha256(entries.map(([f, h]) => `${f}\t${h}\n`).join('')), files: entries.map(([f]) => f) };
}
