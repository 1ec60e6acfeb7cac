import { closeSync, constants, fstatSync, openSync, statSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { gunzipSync, gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { fileKind, readFully } from '@ablate/core/node';
import { DatasetError } from './errors.js';

/** Largest size a `.gz` data file may decompress to (1 GiB; the MNIST training images are 47 MB). */
export const MAX_GUNZIPPED_BYTES = 1024 ** 3;

/** Largest data file read whole (1 GiB; the whole CIFAR-10 training set is 154 MB). */
export const MAX_DATA_FILE_BYTES = 1024 ** 3;

/** Opened without waiting for a writer: a FIFO (a pipe named like a data file) must be refused, not block. */
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** The DatasetError of a file that exists but is not a regular file (pipe, socket, device, folder). */
export function notRegular(file: string, stat: Stats): DatasetError {
  return new DatasetError(file, `is ${fileKind(stat)}, not a regular file`, 'a dataset holds regular files only: remove it from the dataset folder');
}

/**
 * Node's fs.realpathSync (used by require.resolve) decides whether a cached path component is a FIFO from the
 * shared result of the *last* synchronous stat call: after a stat of a pipe or socket, packages behind symbolic
 * links (pnpm's layout) resolve to unresolved paths. A stat of a folder resets that state.
 */
function resetStatState(): void {
  statSync('/');
}

function ioError(file: string, error: unknown): DatasetError {
  resetStatState();
  if (error instanceof DatasetError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  return new DatasetError(file, code === 'ENOENT' ? 'file not found' : `cannot be read (${code ?? String(error)})`, 'check the dataset path');
}

/** Checks what `stat` describes may be read whole: a regular file of at most `maxBytes`. */
function checkRegular(file: string, stat: Stats, maxBytes: number): void {
  if (!stat.isFile()) throw notRegular(file, stat);
  if (stat.size > maxBytes) throw new DatasetError(file, `is ${stat.size} bytes, more than the ${maxBytes} a data file may have`, 'is it the right file?');
}

/**
 * Opens a data file for reading, refusing (DatasetError naming it) anything but a regular file of at most
 * `maxBytes`: checked by `stat` before opening (a device is never opened) and by `fstat` of what was opened
 * (it cannot be swapped in between); opened non-blocking, so a FIFO never hangs. Returns the fd and its size.
 */
export function openDataFile(file: string, maxBytes = MAX_DATA_FILE_BYTES): { fd: number; size: number } {
  let fd: number | undefined;
  try {
    checkRegular(file, statSync(file), maxBytes);
    fd = openSync(file, READ_FLAGS);
    const stat = fstatSync(fd);
    checkRegular(file, stat, maxBytes);
    return { fd, size: stat.size };
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    throw ioError(file, error);
  }
}

function gunzipped(file: string, raw: Buffer, max: number, unzip: (b: Buffer) => Buffer): Buffer {
  try {
    return unzip(raw);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new DatasetError(file, `decompresses to more than ${max} bytes`, 'is it the right file?');
    throw new DatasetError(file, 'is not a valid gzip file (truncated download?)');
  }
}

/**
 * Reads a data file whole (a regular file of at most MAX_DATA_FILE_BYTES; see `openDataFile`), transparently
 * gunzipping `.gz` (at most MAX_GUNZIPPED_BYTES), turning I/O errors into a DatasetError naming the file.
 */
export function readDataFile(file: string, maxGunzippedBytes = MAX_GUNZIPPED_BYTES): Buffer {
  const { fd, size } = openDataFile(file);
  const raw = Buffer.alloc(size);
  try {
    const off = readFully(fd, raw);
    if (off < size) throw new DatasetError(file, `shrank while it was read (${off} of ${size} bytes)`, 'is another program writing it?');
  } catch (error) {
    throw ioError(file, error);
  } finally {
    closeSync(fd);
  }
  return file.endsWith('.gz') ? gunzipped(file, raw, maxGunzippedBytes, (b) => gunzipSync(b, { maxOutputLength: maxGunzippedBytes })) : raw;
}

const gunzipAsync = promisify(gunzip) as (b: Buffer, o: { maxOutputLength: number }) => Promise<Buffer>;

/**
 * `openDataFile` with fs/promises: a handle on a regular file of at most `maxBytes` (stat before opening, fstat
 * after, opened non-blocking); anything else is a DatasetError naming the file.
 */
export async function openDataFileAsync(file: string, maxBytes = MAX_DATA_FILE_BYTES): Promise<FileHandle> {
  let handle: FileHandle | undefined;
  try {
    checkRegular(file, statSync(file), maxBytes); // a device is never opened
    handle = await open(file, READ_FLAGS);
    checkRegular(file, await handle.stat(), maxBytes);
    return handle;
  } catch (error) {
    await handle?.close();
    throw ioError(file, error);
  }
}

/** `readDataFile` with `fs/promises` (and an asynchronous gunzip): the event loop keeps running while it reads. */
export async function readDataFileAsync(file: string, maxGunzippedBytes = MAX_GUNZIPPED_BYTES): Promise<Buffer> {
  let raw: Buffer;
  try {
    checkRegular(file, statSync(file), MAX_DATA_FILE_BYTES); // a device is never opened
    const handle = await open(file, READ_FLAGS);
    try {
      const stat = await handle.stat();
      checkRegular(file, stat, MAX_DATA_FILE_BYTES);
      raw = Buffer.alloc(stat.size);
      let off = 0;
      while (off < stat.size) {
        const { bytesRead } = await handle.read(raw, off, stat.size - off, off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      if (off < stat.size) throw new DatasetError(file, `shrank while it was read (${off} of ${stat.size} bytes)`, 'is another program writing it?');
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw ioError(file, error);
  }
  if (!file.endsWith('.gz')) return raw;
  try {
    return await gunzipAsync(raw, { maxOutputLength: maxGunzippedBytes });
  } catch (error) {
    return gunzipped(file, raw, maxGunzippedBytes, () => {
      throw error;
    });
  }
}
