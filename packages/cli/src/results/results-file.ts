import * as nodeFs from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { describeErrno, pathError, ResultsWriteError } from './file-errors.js';
import { RunLock, type FileIdentity } from './lock.js';
import { MAX_RESULTS_FILE_BYTES } from '../read-whole.js';
import { checkSameRun, metaPath, readSidecar, writeSidecar, type RunMeta } from './sidecar.js';

/** What a non-regular file is, in words. */
export function kindOf(stat: nodeFs.Stats): string {
  if (stat.isFIFO()) return 'a pipe';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isDirectory()) return 'a folder';
  if (stat.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/** The file-system calls a ResultsFile makes; tests inject one that fails (short writes, a full disk). */
export type ResultsFs = typeof nodeFs;

/** How a results file is opened: `resume` (continue it), the flag named in messages, and an injectable fs (tests). */
export interface ResultsFileOptions {
  /** Continue an existing file (skip its indices) instead of refusing a non-empty one. */
  resume: boolean;
  /** Flag named in messages (default `--out`). */
  flag?: string;
  fs?: ResultsFs;
}

/** A row of a results file: any JSON object whose first key is the dataset `index` it belongs to. */
export interface ResultRow {
  readonly index: number;
}

/** Every row we write starts with these bytes (JSON.stringify of an object whose first key is `index`). */
const ROW_START = Buffer.from('{"index":');
const NEWLINE = 0x0a;

/** Options of `ResultsFile.prepare`. */
export interface PrepareOptions {
  /** Sidecar fields (JSON pointers) a resume may differ in, besides RESUME_EXEMPT_FIELDS. */
  exempt?: readonly string[];
  /**
   * Row layouts of earlier versions of this run's rows: a resumed file whose sidecar has one of them is continued
   * in it (`rowKeys` then returns it, and rows must be written in it), so files written before a row gained a
   * key stay resumable.
   */
  olderRowKeys?: ReadonlyArray<readonly string[]>;
}

/**
 * A JSON-lines results file that is only ever modified when it is proven to be ours, and survives being killed:
 *
 * 1. `open` resolves the path (symbolic links, folders), checks it is a regular file or absent and writable, and
 *    takes the run's exclusive lock (`<file>.lock`, see RunLock). A non-empty file without `resume` is refused.
 *    Nothing is written but the lock.
 * 2. `prepare(meta)` proves the file is ours before touching it: on resume the sidecar `<file>.meta.json` must
 *    exist, be an ablate sidecar and describe this run (first differing field named otherwise; see
 *    RESUME_EXEMPT_FIELDS), and every complete line must be a row of it (exactly `meta.rowKeys`, an integer
 *    `index` in [0, datasetSize), no index twice; a file of an earlier row layout named in `olderRowKeys` is continued
 *    in that layout). Only then is a torn last line (bytes after the last newline,
 *    which must begin like a row) cut, by byte offset. A fresh file gets its sidecar (atomically).
 * 3. `append(row)` writes one whole line, looping until every byte is written, and fsyncs. A failing device
 *    (disk full, I/O error) rolls the file back to its last complete row and throws ResultsWriteError (exit 1):
 *    the file stays resumable.
 * 4. `close()` closes the file and releases the lock (also done on exit, SIGINT and SIGTERM).
 *
 * All errors a user can cause are UsageErrors (exit 2) naming the path and what to do, raised before any image
 * is computed. The API does not know how rows are computed: certify/predict and any other writer use it alike.
 */
export class ResultsFile {
  private fd: number | undefined;
  private size = 0;
  private meta: RunMeta | undefined;
  private broken: ResultsWriteError | undefined;
  private readonly doneSet = new Set<number>();
  /** The lock on the file's identity (device + inode), taken once the file exists (see RunLock.acquireIdentity). */
  private identityLock: RunLock | undefined;
  private identity: FileIdentity | undefined;

  private constructor(
    /** The real path written (symbolic links resolved). */
    readonly path: string,
    private readonly lock: RunLock,
    private readonly options: Required<Omit<ResultsFileOptions, 'fs'>> & { fs: ResultsFs },
  ) {}

  /** Indices already in the file (after `prepare`). */
  get done(): ReadonlySet<number> {
    return this.doneSet;
  }

  /** Number of complete rows in the file. */
  get rows(): number {
    return this.doneSet.size;
  }

/** Resolves and checks the path and takes the run's lock; writes nothing else (see the class comment, step 1). */
  static open(file: string, options: ResultsFileOptions): ResultsFile {
    const fs = options.fs ?? nodeFs;
    const flag = options.flag ?? '--out';
    const path = ResultsFile.realPath(fs, resolve(file), flag);
    const lock = RunLock.acquire(path, { flag, fs });
    const results = new ResultsFile(path, lock, { resume: options.resume, flag, fs });
    try {
      let size = 0;
      try {
        const stat = fs.statSync(path);
        size = stat.size;
        // one lock per file, not per name: another run on a hard link of this file is refused here
        results.lockIdentity(stat, file);
      } catch (error) {
        if (error instanceof UsageError) throw error;
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw pathError(flag, path, error);
      }
      if (size > 0 && !options.resume) {
        throw new UsageError(flag, `${file} already exists`, 'pass --resume to continue it, or choose another file');
      }
      if (size > 0) {
        try {
          fs.closeSync(fs.openSync(path, 'r+')); // readable and writable? (found now, not after the first image)
        } catch (error) {
          throw pathError(flag, path, error);
        }
      }
      return results;
    } catch (error) {
      results.identityLock?.release();
      lock.release();
      throw error;
    }
  }

  /** Takes the identity lock of the file `stat` describes, or checks it is the file already locked. */
  private lockIdentity(stat: FileIdentity, named: string): void {
    if (this.identity) {
      if (this.identity.dev !== stat.dev || this.identity.ino !== stat.ino) {
        throw new UsageError(this.options.flag, `${this.path} was replaced by another file while this run started; it was left unchanged`, 'make sure no other program writes this results file, then run again');
      }
      return;
    }
    this.identityLock = RunLock.acquireIdentity(stat, named, { flag: this.options.flag, fs: this.options.fs });
    this.identity = { dev: stat.dev, ino: stat.ino };
  }

  /** Absolute path with the folder and any symbolic link resolved; refuses folders and special files. */
  private static realPath(fs: ResultsFs, path: string, flag: string): string {
    let folder: string;
    try {
      folder = fs.realpathSync(dirname(path));
      if (!fs.statSync(folder).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UsageError(
        flag,
        code === 'ENOENT' ? `the folder ${dirname(path)} does not exist` : `${dirname(path)}: ${describeErrno(error)}`,
        code === 'ENOENT' ? `create it first (mkdir -p ${dirname(path)}), or choose another path` : 'choose another path',
      );
    }
    const full = join(folder, basename(path));
    // What the name leads to (links followed): a pipe, socket or device (e.g. /proc/self/fd/1) is refused by name.
    const target = fs.statSync(full, { throwIfNoEntry: false });
    if (target?.isDirectory()) throw new UsageError(flag, `${path} is a folder`, `give a file name, e.g. ${join(path, 'results.jsonl')}`);
    if (target && !target.isFile()) throw new UsageError(flag, `${path} is not a regular file (${kindOf(target)})`, 'results go to a regular file (or leave out --out to print them)');
    let real = full;
    try {
      if (fs.lstatSync(full).isSymbolicLink()) real = fs.realpathSync(full);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && fs.lstatSync(full, { throwIfNoEntry: false })?.isSymbolicLink()) {
        throw new UsageError(flag, `${path} is a broken symbolic link`, 'point it at a file, or choose another path');
      }
      if (code !== 'ENOENT') throw pathError(flag, path, error);
      return full;
    }
    const stat = fs.statSync(real);
    if (stat.isDirectory()) throw new UsageError(flag, `${path} is a folder`, `give a file name, e.g. ${join(path, 'results.jsonl')}`);
    if (!stat.isFile()) throw new UsageError(flag, `${path} is not a regular file`, 'results go to a regular file (or leave out --out to print them)');
    return real;
  }

  /**
   * Proves the file belongs to the run `meta` describes (see the class comment), cuts a torn last line by byte
   * offset, writes the sidecar of a fresh file and opens it for appending. Returns the indices already done.
   */
  prepare(meta: RunMeta, options: PrepareOptions = {}): ReadonlySet<number> {
    const { fs, flag, resume } = this.options;
    if (meta.rowKeys[0] !== 'index') throw new Error('the first row key must be "index"');
    const current = JSON.parse(JSON.stringify(meta)) as RunMeta;
    const stored = readSidecar(this.path, { flag, fs });
    let data: Buffer;
    try {
      const size = fs.statSync(this.path, { throwIfNoEntry: false })?.size ?? 0;
      if (size > MAX_RESULTS_FILE_BYTES) throw new UsageError(flag, `${this.path} is ${size} bytes, more than the ${MAX_RESULTS_FILE_BYTES} a results file may have`, 'split the run into several --out files (--start, --count)');
      data = fs.readFileSync(this.path);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw pathError(flag, this.path, error);
      data = Buffer.alloc(0);
    }
    let keep = 0;
    if (data.length > 0) {
      if (!resume) throw new UsageError(flag, `${this.path} already exists`, 'pass --resume to continue it, or choose another file');
      if (!stored) {
        throw new UsageError(
          '--resume',
          `${this.path} has no sidecar ${metaPath(this.path)}, so nothing proves it is a results file of this run; it was left unchanged`,
          'write to a new --out (a file without its sidecar cannot be resumed)',
        );
      }
      // a file of an earlier version's row layout is continued in that layout (the rows written keep theirs)
      if (options.olderRowKeys?.some((keys) => keys.join(',') === (stored.rowKeys as readonly unknown[]).join(','))) current.rowKeys = [...stored.rowKeys];
      checkSameRun(this.path, stored, current, { exempt: options.exempt });
      keep = this.validateRows(data, current);
    }
    try {
      this.fd = fs.openSync(this.path, 'a');
      // the file we opened is the one locked (a fresh file: lock the identity it was created with)
      const opened = fs.fstatSync(this.fd);
      if (!opened.isFile()) throw new UsageError(flag, `${this.path} is not a regular file (${kindOf(opened)})`, 'results go to a regular file');
      this.lockIdentity(opened, this.path);
      if (data.length === 0 || !stored) writeSidecar(this.path, current, { flag, fs });
      if (keep < data.length) {
        fs.ftruncateSync(this.fd, keep); // the torn last line, by byte offset
        fs.fsyncSync(this.fd);
      }
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw pathError(flag, this.path, error);
    }
    this.size = keep;
    this.meta = current;
    return this.doneSet;
  }

  /** Checks every complete line is a row of `meta` and the tail begins like a row; returns the byte offset to keep. */
  private validateRows(data: Buffer, meta: RunMeta): number {
    const end = data.lastIndexOf(NEWLINE) + 1;
    const keys = meta.rowKeys.join(',');
    const seen = new Map<number, number>();
    const refuse = (line: number, why: string) =>
      new UsageError('--resume', `${this.path}:${line} ${why}, so it is not a results file of this run; it was left unchanged`, 'is --out the right file? write to a new --out otherwise');
    let start = 0;
    let line = 0;
    while (start < end) {
      const stop = data.indexOf(NEWLINE, start);
      line++;
      let row: unknown;
      try {
        row = JSON.parse(data.toString('utf8', start, stop));
      } catch {
        throw refuse(line, 'is not JSON');
      }
      if (!row || typeof row !== 'object' || Array.isArray(row)) throw refuse(line, 'is not a JSON object');
      if (Object.keys(row).join(',') !== keys) throw refuse(line, `has the keys ${Object.keys(row).join(', ') || '(none)'}, not ${meta.rowKeys.join(', ')}`);
      const index = (row as { index: unknown }).index as number;
      if (!Number.isInteger(index) || index < 0 || index >= meta.datasetSize) throw refuse(line, `has index ${JSON.stringify(index)}, not an integer in [0, ${meta.datasetSize})`);
      if (seen.has(index)) throw refuse(line, `repeats index ${index} (line ${seen.get(index)})`);
      seen.set(index, line);
      start = stop + 1;
    }
    const tail = data.subarray(end);
    const n = Math.min(tail.length, ROW_START.length);
    if (tail.length > 0 && !tail.subarray(0, n).equals(ROW_START.subarray(0, n))) throw refuse(line + 1, 'is an unfinished line that does not begin like a row');
    for (const index of seen.keys()) this.doneSet.add(index);
    return end;
  }

  /** The keys every row must have, in order (known after `prepare`: an older layout when a resume continues one). */
  get rowKeys(): readonly string[] | undefined {
    return this.meta?.rowKeys;
  }

  /** Appends one row (whole line, every byte, fsync'ed). Device failures: ResultsWriteError, file rolled back. */
  append(row: ResultRow): void {
    if (this.broken) throw this.broken;
    const meta = this.meta;
    if (!meta || this.fd === undefined) throw new Error('ResultsFile.append before prepare');
    if (Object.keys(row).join(',') !== meta.rowKeys.join(',')) throw new Error(`row keys ${Object.keys(row).join(', ')} differ from the sidecar's ${meta.rowKeys.join(', ')}`);
    if (!Number.isInteger(row.index) || row.index < 0 || row.index >= meta.datasetSize) throw new Error(`row index ${row.index} is outside [0, ${meta.datasetSize})`);
    if (this.doneSet.has(row.index)) throw new Error(`index ${row.index} is already in ${this.path}`);
    const { fs } = this.options;
    const bytes = Buffer.from(`${JSON.stringify(row)}\n`);
    try {
      for (let off = 0; off < bytes.length; ) {
        const written = fs.writeSync(this.fd, bytes, off, bytes.length - off);
        if (!(written > 0)) throw Object.assign(new Error('write returned 0 bytes'), { code: 'EIO' });
        off += written;
      }
      fs.fsyncSync(this.fd);
    } catch (error) {
      let rolledBack = true;
      try {
        fs.ftruncateSync(this.fd, this.size); // no partial row may be glued to the next one
      } catch {
        rolledBack = false; // the torn line is cut by the next --resume
      }
      const code = (error as NodeJS.ErrnoException).code;
      this.broken = new ResultsWriteError(
        this.path,
        `cannot write ${this.path}: ${describeErrno(error)}${code ? ` (${code})` : ''}; it holds ${this.doneSet.size} complete rows${rolledBack ? '' : ' and a torn line'} — fix the cause and continue with --resume`,
        { cause: error },
      );
      throw this.broken;
    }
    this.size += bytes.length;
    this.doneSet.add(row.index);
  }

  /** Closes the file and releases the lock (idempotent). */
  close(): void {
    try {
      if (this.fd !== undefined) this.options.fs.closeSync(this.fd);
    } finally {
      this.fd = undefined;
      this.identityLock?.release();
      this.lock.release();
    }
  }
}
