import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFileSync, unlinkSync } from 'node:fs';
import { cnnWeights, smallCnn, writeTfjsCnn } from '@ablate/testing';
import { TfjsClassifier } from '../src/index.js';

describe('tfjs model files are regular files (issue 20 §4)', () => {
  it('a FIFO model.json and a weight file linked to /dev/zero are refused at once naming the file', { timeout: 15_000 }, async () => {
    const fifoFolder = join(mkdtempSync(join(tmpdir(), 'ablate-tfjs-')), 'm');
    mkdirSync(fifoFolder);
    expect(spawnSync('mkfifo', [join(fifoFolder, 'model.json')]).status).toBe(0);
    await expect(TfjsClassifier.create({ model: fifoFolder, backends: ['cpu'] })).rejects.toMatchObject({
      code: 'ABLATE_MODEL',
      message: expect.stringMatching(/^model: .*m\/model\.json is a pipe \(FIFO\), not a regular file/),
    });
    // a real model whose weight file is replaced by a link to /dev/zero
    const folder = join(fifoFolder, '..', 'zero');
    const spec = smallCnn(2);
    await writeTfjsCnn(spec, cnnWeights(spec, 3), folder);
    const weights = (JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] }).weightsManifest[0]!.paths[0]!;
    unlinkSync(join(folder, weights));
    symlinkSync('/dev/zero', join(folder, weights));
    await expect(TfjsClassifier.create({ model: folder, backends: ['cpu'] })).rejects.toMatchObject({
      code: 'ABLATE_MODEL',
      message: expect.stringMatching(/^model: weight file .* \(named in .*model\.json\) is a device, not a regular file/),
    });
  });
});
