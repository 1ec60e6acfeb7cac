import { randomBytes } from 'node:crypto';
import { closeSync, constants, linkSync, lstatSync, openSync, readSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { pathError } from './file-errors.js';

/** A file a command writes whole and may replace only when it wrote it before (`summarize --plot`, `report --html`). */
export interface OwnedTarget {
  /** The flag that names the file, for errors. */
  flag: string;
  /** What a file of ours is, for the refusal: "a chart written by ablate summarize". */
  what: string;
  /** An example file name for the hints: "curve.svg". */
  example: string;
  /** How many leading bytes `isOurs` needs. */
  headBytes: number;
  /** Whether the file's first `headBytes` bytes (as UTF-8) are one of ours. */
  isOurs: (head: string) => boolean;
}

/**
 * Where `target.flag` may write: a new file, or one of ours (replaced). Any other existing file is refused (exit 2)
 * and left unchanged; so are folders, non-regular files (a pipe such as /proc/self/fd/1, a device), a dangling
 * symbolic link and a missing parent folder. Returns the real path (symbolic links resolved). Call it before any
 * work; `writeOwnedTarget` checks again when it writes.
 */
export function checkOwnedTarget(file: string, target: OwnedTarget): string {
  const { flag } = target;
  let path = resolve(file);
  try {
    statSync(dirname(path));
  } catch (error) {
    throw pathError(flag, dirname(path), error);
  }
  let size: number;
  try {
    // the named path itself first (following links): /proc/self/fd/1 is a pipe, not a missing "pipe:[…]" file
    const stat = statSync(path);
    path = realpathSync(path);
    if (stat.isDirectory()) throw new UsageError(flag, `${file} is a folder`, `give a file name such as ${target.example}`);
    if (!stat.isFile()) throw new UsageError(flag, `${file} is not a regular file`, `give a file name such as ${target.example}`);
    size = stat.size;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      // nothing there — unless a symbolic link to a missing file is: it is not ablate's to replace
      let link = false;
      try {
        link = lstatSync(path).isSymbolicLink();
      } catch {
        /* nothing at all: a new file */
      }
      if (link) throw new UsageError(flag, `${file} is a symbolic link to a missing file; it was left unchanged`, 'choose another file name, or remove the link');
      return path;
    }
    throw pathError(flag, file, error);
  }
  const head = Buffer.alloc(Math.min(size, target.headBytes));
  try {
    const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)); // a FIFO swapped in cannot hang it
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw pathError(flag, file, error);
  }
  if (!target.isOurs(head.toString('utf8'))) {
    throw new UsageError(flag, `${file} exists and is not ${target.what}; it was left unchanged`, 'choose another file name, or move that file away');
  }
  return path;
}

/**
 * Writes `text` atomically to a target `checkOwnedTarget` allows: a private temporary (exclusive create) is
 * hard-linked into place when the target is new, which fails if anything appeared there since the check (never
 * replaced); otherwise (a file of ours there, or no hard links on this file system) the target is checked again
 * and replaced by a rename.
 */
export function writeOwnedTarget(file: string, text: string, target: OwnedTarget): void {
  const path = checkOwnedTarget(file, target);
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, text, { flag: 'wx' });
    let linked = false;
    try {
      linkSync(temp, path);
      linked = true;
    } catch {
      renameSync(temp, checkOwnedTarget(file, target));
    }
    if (linked) unlinkSync(temp);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      /* not created, or already moved */
    }
    if (error instanceof UsageError) throw error;
    throw pathError(target.flag, file, error);
  }
}
