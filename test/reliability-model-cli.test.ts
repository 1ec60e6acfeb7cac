import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeHostileOnnx } from '@ablate/testing';
import { MAX_SAMPLES } from '@ablate/core';

// Model-output, numeric and resource limits seen from the command line (issue 9, part A).
const root = resolve(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'ablate-limits-'));
const config = 'examples/mnist-onnx/config.json';
/** Runs the CLI without blocking the test worker (a long spawnSync starves vitest's RPC on a busy machine). */
const ablate = (args: string[]) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
    execFile(process.execPath, [join(root, 'packages/cli/dist/bin.js'), ...args], { cwd: root, encoding: 'utf8' }, (error, stdout, stderr) =>
      done({ status: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });

describe('the CLI refuses what would run forever, wrap or lie', () => {
  it.each([
    // flags stop at the CLI's parser with core's MAX_SAMPLES as the bound and the number as written
    [['--n', '1000000000000'], `--n must be an integer from 1 to ${MAX_SAMPLES}, got 1000000000000`],
    [['--n', '99999999999999999999'], `--n must be an integer from 1 to ${MAX_SAMPLES}, got 99999999999999999999`],
    [['--max-samples', '4294967296', '--certifier', 'sequential'], `--max-samples must be an integer from 2 to ${MAX_SAMPLES}, got 4294967296`],
    [['--alpha', '1e-295'], '/certifier/alpha: must be ≥ 1e-100, got 1e-295'],
    // exponent notation is read, and the limit is stated with its name
    [['--n', '2e9'], `--n must be an integer from 1 to ${MAX_SAMPLES}, got 2e9 (${MAX_SAMPLES} = MAX_SAMPLES, the most samples of any one stage)`],
    [['--n0', '1.5e9'], `--n0 must be an integer from 1 to ${MAX_SAMPLES}, got 1.5e9 (${MAX_SAMPLES} = MAX_SAMPLES, the most samples of any one stage)`],
    [['--predict-n', '1e10'], `--predict-n must be an integer from 1 to ${MAX_SAMPLES}, got 1e10 (${MAX_SAMPLES} = MAX_SAMPLES, the most samples of any one stage)`],
    [['--max-samples', '4294967296', '--certifier', 'sequential'], `(${MAX_SAMPLES} = MAX_SAMPLES, the most samples of any one stage)`],
    [['--n', '1.5e0'], `--n must be an integer, got 1.5e0`],
  ])('%j → exit 2 naming the field and the bound', async (flags, message) => {
    const r = await ablate(['certify', '--config', config, '--count', '1', ...flags]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('sample counts in exponent notation: --n0 1e1 --n 1e2 is --n0 10 --n 100; plan --n 1e4', async () => {
    const r = await ablate(['certify', '--config', config, '--count', '1', '--n0', '1e1', '--n', '1e2', '--predict-n', '5e1']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ index: 0, n: 100, samples: 110, predict: { n: 50 } });
    const plan = await ablate(['plan', '--perturbation', 'ablation', '--d', '784', '--curve', '45:0.97', '--n', '1e4', '--json']);
    expect(JSON.parse(plan.stdout).n).toBe(10000);
  });

  it('--batch-size 1000000 --n 100 runs (buffers are sized by the samples needed, not the batch size)', async () => {
    const r = await ablate(['certify', '--config', config, '--count', '1', '--batch-size', '1000000', '--n0', '10', '--n', '100']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ index: 0, n: 100 });
  });

  it('a model with NaN logits: exit 2 naming the model and the rows, and no result row is written', async () => {
    const model = join(dir, 'nan.onnx');
    writeFileSync(model, writeHostileOnnx({ inputShape: [2, 28, 28], classes: 10, bias: [0, 0, 0, Number.NaN, 0, 0, 0, 0, 0, 0] }));
    const out = join(dir, 'nan.jsonl');
    const r = await ablate(['certify', '--config', config, '--model', model, '--count', '2', '--n0', '10', '--n', '100', '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${model} returned logits without a valid argmax in 10 of 10 rows of a batch`);
    const rows = existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : [];
    expect(rows).toEqual([]);
  });
});
