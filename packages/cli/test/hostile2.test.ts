import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// A second hostile pass over issue 20 §4/§5: datasets that lie, files that are not what they claim.
const root = resolve(__dirname, '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const example = JSON.parse(readFileSync(join(root, 'examples/mnist-onnx/config.json'), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'ablate-hostile2-'));
const config = join(dir, 'config.json');
writeFileSync(config, JSON.stringify({ ...example, $schema: undefined, classifier: { ...example.classifier, model: join(root, 'models/mnist-k45-multichannel.onnx') } }));

function ablate(args: string[], timeout = 60_000) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** An IDX pair (MNIST test split names) of `n` black 28×28 images with the given labels. */
function idxPair(name: string, labels: number[]): string {
  const folder = join(dir, name);
  mkdirSync(folder);
  const images = Buffer.alloc(16 + labels.length * 784);
  images.writeUInt32BE(0x803, 0);
  images.writeUInt32BE(labels.length, 4);
  images.writeUInt32BE(28, 8);
  images.writeUInt32BE(28, 12);
  const lab = Buffer.alloc(8 + labels.length);
  lab.writeUInt32BE(0x801, 0);
  lab.writeUInt32BE(labels.length, 4);
  labels.forEach((l, i) => (lab[8 + i] = l));
  writeFileSync(join(folder, 't10k-images-idx3-ubyte'), images);
  writeFileSync(join(folder, 't10k-labels-idx1-ubyte'), lab);
  return folder;
}

describe('a dataset label the model cannot predict', () => {
  it('is an error naming the image and the class range, before any row (it was silently "misclassified")', () => {
    const data = idxPair('label-200', [3, 200]);
    const out = join(dir, 'label-200.jsonl');
    const r = ablate(['certify', '--config', config, '--data-path', data, '--n0', '10', '--n', '50', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ablate: dataset\[1\]\.label: is 200, not one of the model's 10 classes \(0 … 9\)/m);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    // image 0 (label 3) was certified before image 1 was reached; no row claims label 200
    const lines = existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : [];
    expect(lines.map((l) => JSON.parse(l).label)).toEqual([3]);
  });
});

describe('--plugin naming something that is not a module file', () => {
  it('a FIFO (hung the import) and a device (read whole: /dev/zero grew without bound) are refused before any import', () => {
    const fifo = join(dir, 'plugin.mjs');
    execFileSync('mkfifo', [fifo]);
    const r = ablate(['--plugin', fifo, 'schema'], 15_000);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ablate: --plugin: plug-in module ".*plugin\.mjs" is a pipe, not a module file/);
    const device = ablate(['--plugin', '/dev/null', 'schema'], 15_000);
    expect(device.code).toBe(2);
    expect(device.stderr).toMatch(/^ablate: --plugin: plug-in module "\/dev\/null" is a device, not a module file/);
    // the config's "plugins" go through the same check
    const cfg = join(dir, 'plugin-config.json');
    writeFileSync(cfg, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), plugins: ['/dev/null'] }));
    const viaConfig = ablate(['certify', '--config', cfg, '--count', '1'], 15_000);
    expect(viaConfig.code).toBe(2);
    expect(viaConfig.stderr).toMatch(/plug-in module "\/dev\/null" is a device, not a module file/);
  });
});
