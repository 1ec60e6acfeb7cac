import * as nodeFs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { pathError } from './file-errors.js';

/** What a lock file `<out>.lock` holds: who runs on the file, so a second writer can be told and a dead one detected. */
export interface LockOwner {
  lock: 'ablate-results-lock';
  pid: number;
  hostname: string;
  started: string;
  /** Random, so a process only ever removes its own lock. */
  token: string;
  /** The results file as the holder named it (identity locks: another name of the same file, e.g. a hard link). */
  file?: string;
}

export type LockFs = Pick<typeof nodeFs, 'writeFileSync' | 'linkSync' | 'unlinkSync' | 'readFileSync' | 'renameSync' | 'openSync' | 'writeSync' | 'closeSync'>;

/** The lock file of a results file: `<file>.lock`. */
export function lockPath(file: string): string {
  return `${file}.lock`;
}

/** A file's identity: device and inode numbers (the same for every hard link and symbolic link to it). */
export interface FileIdentity {
  dev: number | bigint;
  ino: number | bigint;
}

/**
 * The private folder of identity locks (see RunLock.acquireIdentity): `$ABLATE_LOCK_DIR`, else
 * `$XDG_RUNTIME_DIR/ablate-locks`, else `<tmpdir>/ablate-locks-<uid>`. Created owner-only; a folder that is a
 * symbolic link, not a folder, or owned by another user is refused (a planted folder must not steer our locks).
 */
export function identityLockDir(flag = '--out'): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const dir = process.env.ABLATE_LOCK_DIR || (process.env.XDG_RUNTIME_DIR ? join(process.env.XDG_RUNTIME_DIR, 'ablate-locks') : join(tmpdir(), `ablate-locks-${uid ?? 'user'}`));
  try {
    nodeFs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw pathError(flag, dir, error, 'ablate keeps its results-file locks there; set ABLATE_LOCK_DIR to a private folder you may write to');
  }
  const stat = nodeFs.lstatSync(dir);
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) {
    throw new UsageError(flag, `the lock folder ${dir} is ${stat.isDirectory() ? `owned by user ${stat.uid}, not by you` : 'not a folder (a symbolic link or a file)'}`, 'remove it, or set ABLATE_LOCK_DIR to a private folder');
  }
  return dir;
}

/** The identity lock file of a file: `<identityLockDir>/<dev>-<ino>.lock`. */
export function identityLockPath(id: FileIdentity, flag = '--out'): string {
  return join(identityLockDir(flag), `${id.dev}-${id.ino}.lock`);
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as LockOwner;
    return o && o.lock === 'ablate-results-lock' && Number.isInteger(o.pid) && typeof o.hostname === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process of this host is alive (signal 0 probes without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

const held = new Set<RunLock>();
let handlersInstalled = false;
const onExit = () => {
  for (const lock of [...held]) lock.release();
};
const onSignal = (signal: NodeJS.Signals) => {
  onExit();
  process.exit(signal === 'SIGINT' ? 130 : 143);
};
function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
function removeHandlers(): void {
  if (!handlersInstalled || held.size > 0) return;
  handlersInstalled = false;
  process.off('exit', onExit);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

/**
 * An exclusive lock on a results file for one run: `<file>.lock` holding pid, hostname, start time and a random
 * token. It is created atomically and complete (written to a private temp file, then hard-linked into place,
 * which fails if the lock exists — the O_EXCL guarantee without a window where the lock is empty). A second
 * writer is refused with exit 2 naming the holder; the lock of a process that is no longer alive on this host is
 * recovered. The lock is removed on release, on normal exit and on SIGINT/SIGTERM (then exit 130/143); a
 * SIGKILL leaves a stale lock, recovered by the next run.
 */
export class RunLock {
  private released = false;

  private constructor(readonly path: string, readonly owner: LockOwner, private readonly fs: LockFs) {}

/** Takes the lock of `file` or throws a UsageError naming the holder; recovers the stale lock of a dead process. */
  static acquire(file: string, options: { flag?: string; fs?: LockFs } = {}): RunLock {
    return RunLock.acquireAt(lockPath(file), file, options);
  }

  /**
   * Takes the lock of the file with identity `id` (device and inode), whatever name it is reached by: two runs
   * on one results file through two hard links (whose `<name>.lock` files differ) exclude each other here.
   * Same protocol and messages as `acquire`; the lock lives in the private `identityLockDir()`.
   */
  static acquireIdentity(id: FileIdentity, file: string, options: { flag?: string; fs?: LockFs } = {}): RunLock {
    return RunLock.acquireAt(identityLockPath(id, options.flag), file, { ...options, identity: true });
  }

  private static acquireAt(path: string, file: string, options: { flag?: string; fs?: LockFs; identity?: boolean }): RunLock {
    const fs = options.fs ?? nodeFs;
    const flag = options.flag ?? '--out';
    const owner: LockOwner = { lock: 'ablate-results-lock', pid: process.pid, hostname: hostname(), started: new Date().toISOString(), token: randomBytes(8).toString('hex'), file };
    const text = `${JSON.stringify(owner)}\n`;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (RunLock.tryCreate(fs, path, text, flag)) {
        const lock = new RunLock(path, owner, fs);
        held.add(lock);
        installHandlers();
        return lock;
      }
      let current: string;
      try {
        current = fs.readFileSync(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile: try again
        throw pathError(flag, path, error, 'remove the lock file if no ablate run uses this results file');
      }
      const holder = parseOwner(current);
      if (!holder) {
        throw new UsageError(flag, `${path} exists and is not an ablate lock file`, 'it is not ours, so it is left alone: move it away, or choose another --out');
      }
      const here = holder.hostname === hostname();
      if (!here || processAlive(holder.pid)) {
        throw new UsageError(
          flag,
          `${file} is in use by another ablate run (pid ${holder.pid} on ${holder.hostname}, since ${holder.started}${options.identity && holder.file !== undefined && holder.file !== file ? `, writing it as ${holder.file}: the same file under another name, e.g. a hard link` : ''})`,
          here ? 'wait for it to finish or stop it; two writers would mix their rows' : `if that run is over, delete ${path}`,
        );
      }
      RunLock.removeStale(fs, path, current);
    }
    throw new UsageError(flag, `${file}: could not take the lock ${path} (other runs keep taking it)`, 'retry when the other runs are over');
  }

  private static tryCreate(fs: LockFs, path: string, text: string, flag: string): boolean {
    const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      fs.writeFileSync(temp, text, { flag: 'wx' });
    } catch (error) {
      throw pathError(flag, temp, error, 'the results file’s folder must be writable (the lock file lives next to it)');
    }
    try {
      fs.linkSync(temp, path);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw pathError(flag, path, error);
      // file systems without hard links: O_EXCL create
      try {
        const fd = fs.openSync(path, 'wx');
        try {
          fs.writeSync(fd, text);
        } finally {
          fs.closeSync(fd);
        }
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw pathError(flag, path, e);
      }
    } finally {
      try {
        fs.unlinkSync(temp);
      } catch {
        /* already gone */
      }
    }
  }

  /**
   * Removes a dead process's lock without racing another recoverer: the lock is renamed to a private name first
   * and deleted only if it still holds the dead owner's text; otherwise (someone took it meanwhile) it is put back.
   */
  private static removeStale(fs: LockFs, path: string, staleText: string): void {
    const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
    try {
      fs.renameSync(path, aside);
    } catch {
      return; // gone already
    }
    let text = '';
    try {
      text = fs.readFileSync(aside, 'utf8');
    } catch {
      /* unreadable: treat as not the stale one */
    }
    if (text !== staleText) {
      try {
        fs.linkSync(aside, path); // a live lock we moved: put it back (fails if a newer one exists)
      } catch {
        /* a newer lock is in place */
      }
    }
    try {
      fs.unlinkSync(aside);
    } catch {
      /* ignore */
    }
  }

  /** Removes the lock if it is still ours (idempotent; safe from exit and signal handlers). */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this);
    try {
      const current = parseOwner(this.fs.readFileSync(this.path, 'utf8'));
      if (current?.token === this.owner.token) this.fs.unlinkSync(this.path);
    } catch {
      /* already gone */
    }
    removeHandlers();
  }
}
