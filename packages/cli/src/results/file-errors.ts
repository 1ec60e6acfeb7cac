import { UsageError } from '../errors.js';

/** What an errno means to a user, in words. */
export function describeErrno(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or folder';
    case 'EISDIR':
      return 'is a folder, not a file';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ELOOP':
      return 'too many symbolic links (a link loop?)';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EIO':
      return 'input/output error of the device';
    case 'EFBIG':
      return 'file too large';
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}

/** Errors that mean the disk (not the user's input) failed: a run stops with exit 1 and the file stays resumable. */
export const DEVICE_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EFBIG']);

/**
 * Turns a file-system error on a path the user named into a UsageError (exit 2) naming the flag, the path, the
 * reason and what to do. Device failures (disk full, I/O error) become a ResultsWriteError: they are exit 1.
 */
export function pathError(flag: string, path: string, error: unknown, hint?: string): UsageError | ResultsWriteError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && DEVICE_ERRORS.has(code)) return new ResultsWriteError(path, `cannot write ${path}: ${describeErrno(error)} (${code})`, { cause: error });
  const fix =
    hint ??
    (code === 'ENOENT'
      ? 'create the folder first, or choose another path'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'choose a path you may write to, or fix its permissions'
        : code === 'EISDIR'
          ? 'give a file name inside that folder'
          : 'choose another path');
  return new UsageError(flag, `${path}: ${describeErrno(error)}`, fix);
}

/** A file could not be written because the device failed (disk full, I/O error): a runtime failure, exit 1. */
export class ResultsWriteError extends Error {
  constructor(readonly file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ResultsWriteError';
  }
}
