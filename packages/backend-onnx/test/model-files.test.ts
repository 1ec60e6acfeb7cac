import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OnnxClassifier } from '../src/index.js';

describe('model files are regular files (issue 20 §4)', () => {
  it('a FIFO named *.onnx and /dev/zero are refused at once naming the file, never read', { timeout: 15_000 }, async () => {
    const fifo = join(mkdtempSync(join(tmpdir(), 'ablate-onnx-')), 'model.onnx');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    await expect(OnnxClassifier.create({ model: fifo })).rejects.toMatchObject({ code: 'ABLATE_MODEL', message: expect.stringMatching(/^model: .*model\.onnx is a pipe \(FIFO\), not a regular file/) });
    await expect(OnnxClassifier.create({ model: '/dev/zero' })).rejects.toMatchObject({ code: 'ABLATE_MODEL', message: expect.stringMatching(/^model: \/dev\/zero is a device, not a regular file/) });
    await expect(OnnxClassifier.create({ model: join(fifo, '..', 'missing.onnx') })).rejects.toThrow(/^model: cannot read .*missing\.onnx \(file not found\)/);
  });
});
