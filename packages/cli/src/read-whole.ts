import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { UsageError } from './errors.js';
import { describeErrno } from './results/file-errors.js';

/** Largest config file (`--config`) read: 4 MiB (ablate's configs are a few hundred bytes). */
export const MAX_CONFIG_BYTES = 4 * 1024 ** 2;
/** Largest `--curve-file` read: 16 MiB. */
export const MAX_CURVE_FILE_BYTES = 16 * 1024 ** 2;
/** Largest results file (`summarize`, `--resume`) or sidecar read whole: 1 GiB. */
export const MAX_RESULTS_FILE_BYTES = 1024 ** 3;

/** Names of standard input that `readWholeFile` reads from fd 0 (with `pipes`). */
const STDIN_NAMES = new Set(['/dev/stdin', '/dev/fd/0', '/proc/self/fd/0']);
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** What a non-regular file is, in words. */
function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a pipe';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * Reads a file the user named with `flag` whole, with a size cap: a regular file of at most `maxBytes`, or —
 * with `pipes` — a pipe (`--config /dev/stdin` from a shell pipe), read to its end but refused past
 * `maxBytes`. Anything else (a device such as /dev/zero, a socket, a folder) is refused before it is read.
 * Errors are UsageErrors naming the flag, the file, the cap and what to do.
 */
export function readWholeFile(file: string, options: { flag: string; maxBytes: number; pipes?: boolean }): Buffer {
  const { flag, maxBytes } = options;
  const check = (stat: Stats) => {
    const pipe = options.pipes === true && stat.isFIFO();
    if (!stat.isFile() && !pipe) {
      throw new UsageError(flag, `${file} is ${kindOf(stat)}, not a regular file${options.pipes ? ' or a pipe' : ''}`, `give the path of a file of at most ${maxBytes} bytes`);
    }
    if (stat.isFile() && stat.size > maxBytes) throw tooLarge();
    return pipe;
  };
  const tooLarge = () => new UsageError(flag, `${file} is larger than the ${maxBytes} bytes ${flag} reads`, 'is it the right file?');
  let fd: number | undefined;
  // standard input is read from fd 0 itself: a socket (what a Node parent process passes as a pipe) cannot be
  // reopened through /dev/stdin
  const stdin = options.pipes === true && STDIN_NAMES.has(file);
  try {
    if (stdin) {
      const stat = fstatSync(0);
      if (!stat.isSocket()) check(stat);
    } else {
      check(statSync(file)); // a device is never opened
      // a regular file is opened non-blocking (a FIFO swapped in meanwhile cannot hang the open); a pipe blocks
      fd = openSync(file, constants.O_RDONLY | (options.pipes ? 0 : (constants.O_NONBLOCK ?? 0)));
      check(fstatSync(fd));
    }
    const from = stdin ? 0 : fd!;
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(1024 * 1024, maxBytes + 1 - total));
      let n: number;
      try {
        n = readSync(from, chunk, 0, chunk.length, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
          Atomics.wait(PAUSE, 0, 0, 5); // a non-blocking stream with nothing to read yet
          continue;
        }
        throw error;
      }
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > maxBytes) throw tooLarge();
    }
    return Buffer.concat(chunks, total);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(flag, `cannot read ${file} (${code === 'ENOENT' ? 'file not found' : describeErrno(error)})`, 'check the path');
  } finally {
    if (fd !== undefined) closeSync(fd);
    // Node's fs.realpathSync (used by require.resolve) checks whether a cached path component "is a FIFO" by
    // reading the shared result of the *last* synchronous stat call: after an fstat of a pipe, resolving a
    // package behind a symbolic link (pnpm's layout) stops early and loads it from the unresolved path. A stat
    // of a folder resets that state.
    statSync('/');
  }
}
