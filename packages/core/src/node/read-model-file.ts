import { constants, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { AblateError } from '../errors.js';

/** Largest model file read: 4 GiB (ONNX's protobuf limit is 2 GiB; tfjs weight shards are far smaller). */
export const MAX_MODEL_FILE_BYTES = 4 * 1024 ** 3;

/** What a non-regular file is, in words ("a folder", "a pipe (FIFO)", "a socket", "a device"), for errors that refuse it. */
export function fileKind(s: Stats): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a pipe (FIFO)';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * Reads a model file whole: a regular file of at most MAX_MODEL_FILE_BYTES. A pipe, socket or device (e.g.
 * /dev/zero) is refused before it is read — checked with `stat` before opening and `fstat` after, opened
 * non-blocking so a FIFO cannot hang the open — as an `ABLATE_MODEL` error naming the file. `what` names it
 * in messages ("model", "weight file … (named in model.json)"). An empty file is refused too. The bytes are those
 * `fstat` promised: a file that grows meanwhile is read to that size, one that shrinks is refused.
 */
export async function readModelFile(file: string, what: string, hint?: string): Promise<Buffer> {
  const check = (s: Stats) => {
    if (!s.isFile()) throw new AblateError('ABLATE_MODEL', `model: ${what} is ${fileKind(s)}, not a regular file`, { field: 'model', hint: 'give the path of a model file' });
    if (s.size > MAX_MODEL_FILE_BYTES) throw new AblateError('ABLATE_MODEL', `model: ${what} is ${s.size} bytes, more than the ${MAX_MODEL_FILE_BYTES} a model file may have`, { field: 'model' });
    // (an empty file — or a /proc file, whose size reads 0 — would reach the runtime as "model data pointer is null")
    if (s.size === 0) throw new AblateError('ABLATE_MODEL', `model: ${what} is empty (0 bytes)`, { field: 'model', hint: 'give the path of a model file; was it truncated or not yet written?' });
  };
  try {
    check(await stat(file));
    const handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    try {
      const s = await handle.stat();
      check(s);
      const bytes = Buffer.alloc(s.size);
      let off = 0;
      while (off < s.size) {
        const { bytesRead } = await handle.read(bytes, off, s.size - off, off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      // a torn read (another program truncating or rewriting it) is not a model
      if (off < s.size) throw new AblateError('ABLATE_MODEL', `model: ${what} shrank while it was read (${off} of ${s.size} bytes)`, { field: 'model', hint: 'is another program writing it?' });
      return bytes;
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof AblateError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new AblateError('ABLATE_MODEL', `model: cannot read ${what} (${code === 'ENOENT' ? 'file not found' : code})`, { field: 'model', hint: hint ?? 'check the path; relative paths resolve against the config file' });
  }
}
