import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AblateError } from '../src/index.js';
import { MAX_MODEL_FILE_BYTES, readModelFile } from '../src/node.js';

// readModelFile (@ablate/core/node), which @ablate/backend-onnx and @ablate/backend-tfjs read every model file
// with: anything but a regular file of at most MAX_MODEL_FILE_BYTES is refused with ABLATE_MODEL naming the file,
// before a byte is read; a file that changes while it is read yields at most the bytes its fstat promised.

const dir = mkdtempSync(join(tmpdir(), 'ablate-read-model-'));
const refused = (what: string, message: string) => ({ code: 'ABLATE_MODEL', field: 'model', message: `model: ${what} ${message}` });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('readModelFile refuses what is not a regular model file', () => {
  it('an empty file, and a /proc file (its size reads 0): "is empty", not the runtime\'s "model data pointer is null"', async () => {
    const empty = join(dir, 'empty.onnx');
    writeFileSync(empty, '');
    const hint = ' (give the path of a model file; was it truncated or not yet written?)';
    await expect(readModelFile(empty, empty)).rejects.toMatchObject(refused(empty, `is empty (0 bytes)${hint}`));
    await expect(readModelFile('/proc/self/status', '/proc/self/status')).rejects.toMatchObject(refused('/proc/self/status', `is empty (0 bytes)${hint}`));
  });

  it('a folder, a FIFO, a socket, a link to /dev/zero: refused by kind, at once', { timeout: 15_000 }, async () => {
    const folder = join(dir, 'folder.onnx');
    mkdirSync(folder);
    const fifo = join(dir, 'fifo.onnx');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const zero = join(dir, 'zero.onnx');
    symlinkSync('/dev/zero', zero);
    const socket = join(dir, 'socket.onnx');
    const server = createServer();
    await new Promise<void>((r) => server.listen(socket, r));
    try {
      const hint = ' (give the path of a model file)';
      await expect(readModelFile(folder, folder)).rejects.toMatchObject(refused(folder, `is a folder, not a regular file${hint}`));
      await expect(readModelFile(fifo, fifo)).rejects.toMatchObject(refused(fifo, `is a pipe (FIFO), not a regular file${hint}`));
      await expect(readModelFile(socket, socket)).rejects.toMatchObject(refused(socket, `is a socket, not a regular file${hint}`));
      await expect(readModelFile(zero, `weight file ${zero}`)).rejects.toMatchObject(refused(`weight file ${zero}`, `is a device, not a regular file${hint}`));
    } finally {
      server.close();
    }
  });

  it('a file over MAX_MODEL_FILE_BYTES (sparse: nothing is written) is refused by its size', async () => {
    const big = join(dir, 'big.onnx');
    writeFileSync(big, '');
    truncateSync(big, MAX_MODEL_FILE_BYTES + 1);
    await expect(readModelFile(big, big)).rejects.toMatchObject(refused(big, `is ${2 ** 32 + 1} bytes, more than the ${2 ** 32} a model file may have`));
  });

  it('a missing file or a dangling link: "file not found", with the caller\'s hint', async () => {
    const dangling = join(dir, 'dangling.onnx');
    symlinkSync(join(dir, 'nowhere'), dangling);
    const error = await readModelFile(dangling, dangling, 'run ablate fetch first').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AblateError);
    expect(error).toMatchObject({ code: 'ABLATE_MODEL', field: 'model', message: `model: cannot read ${dangling} (file not found) (run ablate fetch first)` });
  });
});

describe('readModelFile on a file that changes while it is read', () => {
  /** Makes the reader's fstat (FileHandle.stat, after the open) run `after` once it has answered. */
  async function afterFstat(after: () => void) {
    const probe = join(dir, 'probe');
    writeFileSync(probe, '');
    const handle = await open(probe, 'r');
    const proto = Object.getPrototypeOf(handle) as { stat: (...args: unknown[]) => Promise<unknown> };
    await handle.close();
    const stat = proto.stat;
    vi.spyOn(proto, 'stat').mockImplementation(async function (this: unknown, ...args: unknown[]) {
      const s = await stat.apply(this, args);
      after();
      return s;
    });
  }

  it('grown between fstat and read: the bytes fstat promised, not what came after', async () => {
    const file = join(dir, 'growing.onnx');
    const original = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 31) & 255));
    writeFileSync(file, original);
    await afterFstat(() => appendFileSync(file, Buffer.alloc(1 << 20, 7)));
    const bytes = await readModelFile(file, file);
    expect(bytes.length).toBe(original.length);
    expect(bytes.equals(original)).toBe(true);
    expect(readFileSync(file).length).toBe(original.length + (1 << 20)); // it did grow
  });

  it('grown past the cap between fstat and read (sparse): still only the bytes fstat promised', async () => {
    const file = join(dir, 'growing-huge.onnx');
    writeFileSync(file, 'onnx');
    await afterFstat(() => truncateSync(file, MAX_MODEL_FILE_BYTES + 10));
    const bytes = await readModelFile(file, file);
    expect(bytes.toString()).toBe('onnx');
  });

  it('shrunk between fstat and read: refused as a torn read (was: the 3 bytes left, returned as the model)', async () => {
    const file = join(dir, 'shrinking.onnx');
    writeFileSync(file, 'abcdefgh');
    await afterFstat(() => truncateSync(file, 3));
    await expect(readModelFile(file, `weight file ${file}`)).rejects.toMatchObject({ code: 'ABLATE_MODEL', field: 'model', message: `model: weight file ${file} shrank while it was read (3 of 8 bytes) (is another program writing it?)` });
  });
});
