import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createContainer, type AblateConfig } from '@ablate/core';
import '@ablate/backend-onnx';
import '@ablate/datasets';
import { computeRow, computeRows } from '../src/commands/run-dataset.js';
import { configHash, jobDataError, type JobData } from '../src/distributed/jobs.js';

// imagesInFlight from the command line, the config and the distributed queue (hostile review of issue 23 item 4).

const root = resolve(__dirname, '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const config: AblateConfig = {
  dataset: { type: 'mnist', split: 'test' },
  perturbation: { type: 'ablation', retain: 45 },
  encoder: { type: 'multichannel' },
  classifier: { type: 'onnx', model: join(root, 'models/mnist-k45-multichannel.onnx'), executionProviders: ['cpu'] },
  certifier: { type: 'cohen', alpha: 0.05, n0: 10, n: 100 },
  batchSize: 100,
  seed: 0,
};
const dir = mkdtempSync(join(tmpdir(), 'ablate-in-flight-cli-'));
const configFile = join(dir, 'config.json');
writeFileSync(configFile, JSON.stringify(config));
const ablate = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
const rowsOf = (stdout: string) =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const { seconds: _s, ...row } = JSON.parse(l) as Record<string, unknown>;
      return row;
    });

describe('--images-in-flight and the imagesInFlight key', () => {
  it('refuses 0, 65, 1e3, abc, 2.5, -1 and 0x4 with exit 2, naming the flag and its range, before any image', () => {
    for (const bad of ['0', '65', '1e3', 'abc', '2.5', '-1', '0x4']) {
      const run = ablate('certify', '--config', configFile, '--count', '1', '--images-in-flight', bad);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain(`--images-in-flight must be an integer`);
      expect(run.stdout).toBe('');
    }
  });

  it('refuses --set imagesInFlight=0 / 65 / "abc" / null as a config error naming /imagesInFlight', () => {
    for (const [value, why] of [
      ['0', 'must be ≥ 1'],
      ['65', 'must be ≤ 64'],
      ['"abc"', 'must be integer'],
      ['null', 'must be integer'],
    ]) {
      const run = ablate('certify', '--config', configFile, '--count', '1', '--set', `imagesInFlight=${value}`);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain(`/imagesInFlight: ${why}`);
      expect(run.stdout).toBe('');
    }
  });

  it('certify --predict-sequential and predict --sequential write the rows of K = 1 with K = 4', () => {
    for (const args of [
      ['certify', '--predict-sequential', '--predict-n', '2000'],
      ['predict', '--sequential', '--predict-n', '2000'],
    ]) {
      const one = ablate(...args, '--config', configFile, '--count', '5');
      const four = ablate(...args, '--config', configFile, '--count', '5', '--images-in-flight', '4');
      expect(one.status).toBe(0);
      expect(four.status).toBe(0);
      expect(rowsOf(four.stdout)).toEqual(rowsOf(one.stdout));
      expect(rowsOf(one.stdout)).toHaveLength(5);
    }
  });

  it('(defect) a predict.n whose batches × imagesInFlight exceed the buffer limit is a config error naming /batchSize before any image', async () => {
    // A sample of [1, 28, 28] (encoded [2, 28, 28]) takes 2 · (4 · 784 + 784 + 4 · 1568) = 20 384 bytes in a buffer
    // set and 4 · 1568 = 6 272 in the merged batch: 64 lanes × 26 656 = 1 705 984 bytes per sample of batchSize,
    // so 4 GiB holds 2 517. Before, the check used the certifier's n (100) only, and the run failed in its first
    // image, after CERTIFY's selection samples.
    const huge = { ...config, batchSize: 100_000, imagesInFlight: 64, predict: { n: 100_000 } };
    const refused = await createContainer(huge).then(
      (rt) => rt.dispose().then(() => 'created'),
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ code: 'ABLATE_CONFIG', message: expect.stringMatching(/\/batchSize: .*× 64 images in flight.*at most 2517 \(or fewer images in flight\)/) });
    const run = ablate('certify', '--config', configFile, '--count', '1', '--batch-size', '100000', '--images-in-flight', '64', '--predict-n', '100000');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('/batchSize');
    expect(run.stderr).not.toContain('image 0');
    expect(run.stdout).toBe('');
    // the same at one image in flight fits (1.9 GiB) and so does a batch of 2 517 at 64, not one of 2 518
    await (await createContainer({ ...huge, imagesInFlight: 1 })).dispose();
    await (await createContainer({ ...huge, batchSize: 2517 })).dispose();
    await expect(createContainer({ ...huge, batchSize: 2518 })).rejects.toMatchObject({ code: 'ABLATE_CONFIG' });
  });

  it('a worker computes a job’s images imagesInFlight at once (computeRows), each row the one computeRow gives at K = 1', async () => {
    await using four = await createContainer({ ...config, imagesInFlight: 4, predict: { n: 200 } });
    await using one = await createContainer({ ...config, predict: { n: 200 } });
    const rows = [];
    for await (const row of computeRows(four, 'certify', 3, 6)) rows.push(row);
    const expected = [];
    for (let i = 3; i < 9; i++) expected.push(await computeRow(one, 'certify', i));
    const strip = (r: Array<{ seconds: number }>) => r.map(({ seconds: _s, ...rest }) => rest);
    expect(strip(rows)).toEqual(strip(expected));
    expect(rows.every((r) => 'predict' in r && r.predict?.n === 200)).toBe(true);
    // merged: the four selections of 10 rows went in one call (before, a worker computed one image at a time)
    const { calls, requests } = four.smoothed.coalescer!.stats;
    expect(calls).toBeLessThan(requests);
  });

  it('a job whose config holds imagesInFlight is accepted by workers and hashes like the config without it', () => {
    const sha = 'c'.repeat(64);
    const withK = { ...config, imagesInFlight: 8 } as Record<string, unknown>;
    expect(configHash('certify', withK, sha)).toBe(configHash('certify', config as unknown as Record<string, unknown>, sha));
    expect(configHash('certify', { ...withK, seed: 1 }, sha)).not.toBe(configHash('certify', withK, sha));
    const job: JobData = { v: 1, runId: '0123456789abcdef', kind: 'certify', start: 0, count: 2, config: withK, configHash: configHash('certify', withK, sha), model: { transfer: 'shared', sha256: sha, path: '/a/m.onnx' } };
    expect(jobDataError(job)).toBeUndefined();
  });
});
