import { readSync } from 'node:fs';

/**
 * Fills `buffer` from the start of the file open as `fd` (positional reads, so the descriptor's offset is not
 * used), stopping early only at end of file. Returns the bytes read: less than `buffer.length` means the file
 * was shorter (e.g. truncated since its fstat), which the caller reports in its own words.
 */
export function readFully(fd: number, buffer: Uint8Array): number {
  let off = 0;
  while (off < buffer.length) {
    const n = readSync(fd, buffer, off, buffer.length - off, off);
    if (n === 0) break;
    off += n;
  }
  return off;
}
