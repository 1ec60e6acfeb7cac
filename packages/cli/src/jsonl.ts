import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { UsageError } from './errors.js';

/**
 * An append-only JSON-lines file that survives being killed: each row is written with one write() of a whole
 * line and fsync'ed. On resume, a torn last line (no trailing newline) is cut off and the indices already
 * present are skipped, so every index ends up exactly once.
 */
export class ResumableJsonl {
  private fd: number | undefined;
  readonly done = new Set<number>();

  constructor(readonly file: string, resume: boolean) {
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8');
      if (!resume && text.length > 0) {
        throw new UsageError('--out', `${file} already exists`, 'pass --resume to continue it, or choose another file');
      }
      const end = text.lastIndexOf('\n') + 1;
      if (end < text.length) truncateSync(file, Buffer.byteLength(text.slice(0, end)));
      for (const line of text.slice(0, end).split('\n')) {
        if (!line.trim()) continue;
        try {
          const row = JSON.parse(line) as { index?: unknown };
          if (typeof row.index === 'number') this.done.add(row.index);
        } catch {
          throw new UsageError('--out', `${file} has a line that is not JSON: ${line.slice(0, 80)}`, 'is it an ablate results file?');
        }
      }
    }
  }

  /** Appends one row as a JSON line and flushes it to disk. */
  append(row: object): void {
    this.fd ??= openSync(this.file, 'a');
    writeSync(this.fd, `${JSON.stringify(row)}\n`);
    fsyncSync(this.fd);
  }

  /** Closes the file. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Sidecar `<out>.meta.json`: the config and the unit of the radii, for `summarize` and for safe resumes. */
export interface RunMeta {
  command: 'certify' | 'predict';
  perturbation: string;
  unit: string;
  config: object;
  started: string;
}

export function metaPath(out: string): string {
  return `${out}.meta.json`;
}

/** Writes the sidecar, or on resume checks that the stored config matches (a mixed file would be meaningless). */
export function writeOrCheckMeta(out: string, meta: RunMeta, resume: boolean): void {
  const path = metaPath(out);
  if (resume && existsSync(path)) {
    const old = JSON.parse(readFileSync(path, 'utf8')) as RunMeta;
    const strip = (c: any) => JSON.stringify({ ...c, batchSize: undefined, classifier: { ...c.classifier, batchSize: undefined, executionProviders: undefined, backends: undefined } });
    if (old.command !== meta.command || strip(old.config) !== strip(meta.config)) {
      throw new UsageError('--resume', `${out} was written by a different ${old.command} config`, `compare ${path} with your flags, or write to another --out`);
    }
    return;
  }
  writeFileSync(path, `${JSON.stringify(meta, null, 2)}\n`);
}

/** The sidecar `<out>.meta.json` of a results file, when there is one. */
export function readMeta(out: string): RunMeta | undefined {
  const path = metaPath(out);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as RunMeta) : undefined;
}
