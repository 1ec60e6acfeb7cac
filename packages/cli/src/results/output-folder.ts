import { mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import { pathError } from './file-errors.js';

/** Largest existing file `checkGeneratedTarget` reads to recognise one of its own (charts and schemas are far smaller). */
export const MAX_GENERATED_FILE_BYTES = 64 * 1024 ** 2;

/** Removes `folder` if it is empty (only a folder a run created and left empty goes); ignores anything else. */
export function rmdirIfEmpty(folder: string): void {
  try {
    rmdirSync(folder); // fails unless empty
  } catch {
    /* not empty or gone */
  }
}

/**
 * Checks, before any work, that `out` is a folder this run may fill: new (created with its parents) or empty —
 * or, with `mayHold`, holding only entries that test true (e.g. a resumed run's own files). An existing file, or a
 * folder with anything else in it, is refused with exit 2 naming `flag` and left unchanged; a folder that cannot
 * be written is refused too. Returns whether the folder was created (so a failed run can remove it again).
 */
export function prepareOutputFolder(flag: string, out: string, what: string, mayHold?: (entry: string) => boolean): boolean {
  const folder = resolve(out);
  let exists = false;
  try {
    const stat = statSync(folder);
    exists = true;
    if (!stat.isDirectory()) throw new UsageError(flag, `${out} is a file; ${what}`, 'give a new folder name');
    const foreign = readdirSync(folder).filter((e) => !mayHold?.(e));
    if (foreign.length > 0) {
      throw new UsageError(flag, `${out} already holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}; it was left unchanged`, 'give a new or empty folder (nothing is ever overwritten)');
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw pathError(flag, out, error);
  }
  try {
    if (!exists) mkdirSync(folder, { recursive: true });
    const probe = join(folder, `.ablate-write-test-${process.pid}`);
    writeFileSync(probe, '', { flag: 'wx' });
    unlinkSync(probe);
  } catch (error) {
    if (!exists) rmdirIfEmpty(folder);
    throw pathError(flag, out, error, 'choose a folder you may write to');
  }
  return !exists;
}

/**
 * Writes a whole generated file (a chart, a schema) atomically (temp file + rename), replacing an existing file
 * only when `isOurs(its text)` proves it was generated the same way; anything else is refused with exit 2 and
 * left unchanged. Call `checkGeneratedTarget` first to refuse before any work.
 */
export function writeGeneratedFile(flag: string, file: string, text: string, isOurs: (existing: string) => boolean): void {
  checkGeneratedTarget(flag, file, isOurs);
  const tmp = join(dirname(resolve(file)), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, text, { flag: 'wx' });
    renameSync(tmp, file);
  } catch (error) {
    try {
      unlinkSync(tmp);
    } catch {
      /* never created */
    }
    throw pathError(flag, file, error);
  }
}

/** Refuses (exit 2) a target that exists and is not a file this command generated; see writeGeneratedFile. */
export function checkGeneratedTarget(flag: string, file: string, isOurs: (existing: string) => boolean): void {
  let existing: string;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new UsageError(flag, `${file} is not a regular file; it was left unchanged`, 'give a new file name');
    // a generated file (chart, schema) is small: anything larger is not ours, and is not read whole
    if (stat.size > MAX_GENERATED_FILE_BYTES) throw new UsageError(flag, `${file} exists and was not written by this command; it was left unchanged`, 'move it away or give a new file name');
    existing = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw pathError(flag, file, error);
  }
  if (!isOurs(existing)) throw new UsageError(flag, `${file} exists and was not written by this command; it was left unchanged`, 'move it away or give a new file name');
}
