import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIN_ALPHA } from '@ablate/core';
import { runAblate, jsonlRows } from './helpers/ablate-process.js';

const root = resolve(__dirname, '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const config = join(root, 'examples/mnist-onnx/config.json');
const dir = mkdtempSync(join(tmpdir(), 'ablate-cli-'));

const ablate = (args: string[]) => runAblate(bin, root, args);
const rows = jsonlRows;
const small = ['--config', config, '--n0', '50', '--n', '400'];

describe('ablate certify', () => {
  it('writes one JSON line per image with exactly the contract keys', () => {
    const out = join(dir, 'basic.jsonl');
    const r = ablate(['certify', ...small, '--count', '3', '--out', out]);
    expect(r.code).toBe(0);
    const rs = rows(out);
    expect(rs.map((x) => x.index)).toEqual([0, 1, 2]);
    for (const x of rs) {
      expect(Object.keys(x)).toEqual(['index', 'label', 'prediction', 'radius', 'correct', 'pLower', 'nA', 'n', 'samples', 'seconds']);
      expect(x.samples).toBe(450);
      expect(x.n).toBe(400);
      expect(x.samples).toBe(450);
      expect(x.correct).toBe(x.prediction === x.label);
      expect(x.radius === null).toBe(x.prediction === null);
    }
    // quiet, line-oriented progress when stderr is not a TTY
    expect(r.stderr).toMatch(/\[3\/3\] image 2: label 1 .* samples\/s \| ETA/);
    // and, at most every 30 s, where the current image stands (here: the first batch of the first image)
    expect(r.stderr).toMatch(/^ {2}… image 0: selection, 50\/450 samples$/m);
    // the sidecar records what made the file
    expect(JSON.parse(readFileSync(`${out}.meta.json`, 'utf8'))).toMatchObject({ command: 'certify', perturbation: 'ablation(k=45)', unit: 'pixels' });
  });

  it('refuses to overwrite results without --resume', () => {
    const out = join(dir, 'basic.jsonl');
    const r = ablate(['certify', ...small, '--count', '3', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already exists.*--resume/);
  });

  it('killed at any moment and resumed: every image exactly once, no torn line, same results', async () => {
    const count = 8;
    const reference = join(dir, 'reference.jsonl');
    expect(ablate(['certify', ...small, '--count', String(count), '--out', reference]).code).toBe(0);

    const out = join(dir, 'killed.jsonl');
    const child = spawn(process.execPath, [bin, 'certify', ...small, '--count', String(count), '--out', out], { cwd: root, stdio: 'ignore' });
    await new Promise<void>((done) => {
      const poll = setInterval(() => {
        if (existsSync(out) && readFileSync(out, 'utf8').split('\n').length > 3) {
          child.kill('SIGKILL');
          clearInterval(poll);
          done();
        }
      }, 20);
    });
    await new Promise((r) => child.on('exit', r));
    // simulate the worst moment: a half-written last line
    appendFileSync(out, '{"index":99,"label":');
    const r = ablate(['certify', ...small, '--count', String(count), '--out', out, '--resume']);
    expect(r.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const got = rows(out);
    expect(got.map((x) => x.index).sort((a, b) => a - b)).toEqual([...Array(count).keys()]);
    const strip = (x: any) => ({ ...x, seconds: 0 });
    expect(got.map(strip).sort((a, b) => a.index - b.index)).toEqual(rows(reference).map(strip));
  });

  it('a resume may name a byte-identical copy of the model (contents are compared, not where it lies)', () => {
    const out = join(dir, 'model-copy.jsonl');
    expect(ablate(['certify', ...small, '--count', '1', '--out', out]).code).toBe(0);
    const copy = join(dir, 'copy.onnx');
    writeFileSync(copy, readFileSync(join(root, 'models/mnist-k45-multichannel.onnx')));
    const r = ablate(['certify', ...small, '--model', copy, '--count', '2', '--out', out, '--resume']);
    expect(r.code, r.stderr).toBe(0);
    expect(rows(out).map((x) => x.index)).toEqual([0, 1]);
    // a different model (contents) is still refused
    writeFileSync(copy, readFileSync(join(root, 'models/mnist-k20-multichannel.onnx')));
    const other = ablate(['certify', ...small, '--model', copy, '--count', '3', '--out', out, '--resume']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/model/);
  });

  it('a resume with a different config is refused', () => {
    const r = ablate(['certify', ...small, '--retain', '20', '--count', '3', '--out', join(dir, 'basic.jsonl'), '--resume']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--resume: .*basic.jsonl was written by a different run: \/config\/perturbation\/retain was 45, this run has 20/);
  });
});

describe('ablate predict', () => {
  it('writes PREDICT rows', () => {
    const r = ablate(['predict', ...small, '--count', '2']);
    expect(r.code).toBe(0);
    const rs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(Object.keys(rs[0])).toEqual(['index', 'label', 'prediction', 'correct', 'pValue', 'nA', 'nB', 'n', 'samples', 'seconds']);
  });
});

describe('ablate predict --sequential', () => {
  it('stops early on clear digits; samples = n ≤ the cap; the sidecar says sequential', () => {
    const out = join(dir, 'seq-predict.jsonl');
    const r = ablate(['predict', ...small, '--count', '2', '--sequential', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const rs = rows(out);
    for (const x of rs) {
      expect(x.samples).toBe(x.n);
      expect(x.n).toBeLessThanOrEqual(400);
    }
    // images 0 and 1 are clear 7 and 2: decided well before the cap
    expect(rs.map((x) => x.prediction)).toEqual([7, 2]);
    expect(Math.max(...rs.map((x) => x.n))).toBeLessThan(400);
    expect(JSON.parse(readFileSync(`${out}.meta.json`, 'utf8')).config.predict).toEqual({ n: 400, sequential: true });
  });
});

describe('ablate certify --predict', () => {
  const strip = (x: any) => ({ ...x, seconds: 0 });
  it('adds PREDICT from its own samples: certify fields unchanged, predict field = `ablate predict` row', () => {
    const plain = join(dir, 'plain.jsonl');
    const both = join(dir, 'both.jsonl');
    const alone = join(dir, 'alone.jsonl');
    expect(ablate(['certify', ...small, '--count', '3', '--out', plain]).code).toBe(0);
    expect(ablate(['certify', ...small, '--count', '3', '--predict', '--out', both]).code).toBe(0);
    expect(ablate(['predict', ...small, '--count', '3', '--out', alone]).code).toBe(0);
    const b = rows(both);
    for (const x of b) {
      expect(Object.keys(x)).toEqual(['index', 'label', 'prediction', 'radius', 'correct', 'pLower', 'nA', 'n', 'samples', 'predict', 'seconds']);
      expect(Object.keys(x.predict)).toEqual(['prediction', 'pValue', 'nA', 'nB', 'n']);
      expect(x.predict.n).toBe(400);
      expect(x.predict.prediction === null).toBe(x.predict.pValue > 0.05);
    }
    // CERTIFY rows are byte-identical (but for seconds) with and without --predict
    expect(b.map(({ predict, ...x }) => strip(x))).toEqual(rows(plain).map(strip));
    // PREDICT's votes are not CERTIFY's: some image has different top counts
    expect(b.some((x) => x.predict.nA !== x.nA)).toBe(true);
    // `ablate predict` draws the same PREDICT substream
    expect(rows(alone).map(({ prediction, pValue, nA, nB, n }) => ({ prediction, pValue, nA, nB, n }))).toEqual(b.map((x) => x.predict));
    expect(JSON.parse(readFileSync(`${both}.meta.json`, 'utf8')).config.predict).toEqual({ n: 400 });
    // reproduction/join-predict.mjs (how the committed reproduction gained PREDICT): certify + predict rows
    // joined = certify --predict rows, sidecar included (but for seconds and the start time)
    const joined = join(dir, 'joined.jsonl');
    const j = spawnSync(process.execPath, [join(root, 'reproduction/join-predict.mjs'), plain, alone, '--out', joined], { encoding: 'utf8' });
    expect(j.status).toBe(0);
    expect(readFileSync(joined, 'utf8').replace(/"seconds":[\d.]+/g, '')).toBe(readFileSync(both, 'utf8').replace(/"seconds":[\d.]+/g, ''));
    const metaOf = (f: string) => ({ ...JSON.parse(readFileSync(`${f}.meta.json`, 'utf8')), started: 0 });
    expect(metaOf(joined)).toEqual(metaOf(both));
  });

  it('resumes a --predict run to what an uninterrupted one writes, and refuses a resume with other PREDICT settings', () => {
    const out = join(dir, 'resumed-predict.jsonl');
    expect(ablate(['certify', ...small, '--count', '1', '--predict-n', '300', '--out', out]).code).toBe(0);
    const r = ablate(['certify', ...small, '--count', '3', '--predict-n', '300', '--out', out, '--resume']);
    expect(r.code).toBe(0);
    const whole = join(dir, 'whole-predict.jsonl');
    expect(ablate(['certify', ...small, '--count', '3', '--predict-n', '300', '--out', whole]).code).toBe(0);
    expect(rows(out).map(strip)).toEqual(rows(whole).map(strip));
    expect(rows(out)[2].predict.n).toBe(300);
    for (const flags of [[], ['--predict'], ['--predict-n', '400']]) {
      const bad = ablate(['certify', ...small, '--count', '4', ...flags, '--out', out, '--resume']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/written by a different run: \/config\/predict/);
    }
    expect(ablate(['certify', ...small, '--predict-n', '0']).stderr).toMatch(/--predict-n must be an integer from 1 /);
  });

  it('with the sequential certifier and no --predict-n, PREDICT draws its maxSamples (it has no fixed n)', () => {
    const out = join(dir, 'sequential-predict.jsonl');
    const r = ablate(['certify', '--config', config, '--certifier', 'sequential', '--max-samples', '600', '--n0', '50', '--count', '2', '--predict', '--out', out]);
    expect(r.code).toBe(0);
    for (const x of rows(out)) expect(x.predict.n).toBe(600);
    expect(JSON.parse(readFileSync(`${out}.meta.json`, 'utf8')).config.predict).toEqual({ n: 600 });
    const s = JSON.parse(ablate(['summarize', out, '--json']).stdout);
    const certifySamples = rows(out).map((x) => x.samples + 600);
    expect(s.samples.mean).toBe((certifySamples[0] + certifySamples[1]) / 2);
    // `ablate predict` resolves the same count
    const alone = join(dir, 'sequential-predict-alone.jsonl');
    expect(ablate(['predict', '--config', config, '--certifier', 'sequential', '--max-samples', '600', '--n0', '50', '--count', '1', '--out', alone]).code).toBe(0);
    expect(rows(alone)[0]).toMatchObject({ n: 600, samples: 600 });
    expect(rows(alone)[0].nA).toBe(rows(out)[0].predict.nA);
  });

  it('--target-radius: the sequential certifier stops once that radius is decided (sidecar records it)', () => {
    const seq = ['certify', '--config', config, '--certifier', 'sequential', '--max-samples', '1500', '--n0', '50', '--count', '1'];
    const full = join(dir, 'sequential-full.jsonl');
    const target = join(dir, 'sequential-target.jsonl');
    expect(ablate([...seq, '--out', full]).code).toBe(0);
    expect(ablate([...seq, '--target-radius', '1', '--out', target]).code).toBe(0);
    expect(JSON.parse(readFileSync(`${target}.meta.json`, 'utf8')).config.certifier.targetRadius).toBe(1);
    const [a, b] = [rows(full), rows(target)];
    for (let i = 0; i < 1; i++) {
      // a clear digit: radius 1 is certified long before the largest radius is decided
      expect(a[i].radius).toBeGreaterThan(1);
      expect(b[i].radius).toBeGreaterThanOrEqual(1);
      expect(b[i].samples).toBeLessThan(a[i].samples);
    }
    const bad = ablate([...seq, '--target-radius', '-1', '--out', join(dir, 'never.jsonl')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/targetRadius/);
  });
});

describe('ablate summarize', () => {
  const row = (index: number, label: number, certify: number | null, predict?: number | null) =>
    JSON.stringify({
      index,
      label,
      prediction: certify,
      radius: certify === null ? null : 3,
      correct: certify === label,
      pLower: 0.9,
      nA: 9,
      n: 10,
      ...(predict === undefined ? {} : { predict: { prediction: predict, pValue: predict === null ? 0.5 : 0.001, nA: 9, nB: 1, n: 10 } }),
      seconds: 1,
    });

  it('takes accuracy from PREDICT when rows carry it, and keeps CERTIFY’s under its own names', () => {
    const f = join(dir, 'sources.jsonl');
    // PREDICT: 3 correct, 1 wrong, 1 abstained; CERTIFY: 2 correct, 3 abstained
    writeFileSync(f, [row(0, 1, 1, 1), row(1, 2, null, 2), row(2, 3, null, 3), row(3, 4, 4, 5), row(4, 5, null, null)].join('\n') + '\n');
    const s = JSON.parse(ablate(['summarize', f, '--json']).stdout);
    expect(s).toMatchObject({ accuracySource: 'predict', accuracy: 0.6, abstainRate: 0.2, certifyAccuracy: 0.4, certifyAbstainRate: 0.6, medianCertifiedRadius: null });
    const text = ablate(['summarize', f]).stdout;
    expect(text).toContain('classification accuracy (PREDICT, binomial test of the top two counts): 60.00% (abstained 20.00%)');
    expect(text).toContain('CERTIFY accuracy (from CERTIFY, abstain when pA_lower ≤ ½): 40.00% (abstained 60.00%)');
    const svg = join(dir, 'sources.svg');
    expect(ablate(['summarize', f, '--plot', svg]).code).toBe(0);
    expect(readFileSync(svg, 'utf8')).toContain('accuracy 60.0% (PREDICT)');
  });

  it('labels CERTIFY-only files as such, and refuses a file where only some rows carry PREDICT', () => {
    const f = join(dir, 'certify-only.jsonl');
    writeFileSync(f, [row(0, 1, 1), row(1, 2, null)].join('\n') + '\n');
    const s = JSON.parse(ablate(['summarize', f, '--json']).stdout);
    expect(s).toMatchObject({ accuracySource: 'certify', accuracy: 0.5, abstainRate: 0.5, certifyAccuracy: 0.5, certifyAbstainRate: 0.5 });
    expect(ablate(['summarize', f]).stdout).toContain('classification accuracy (from CERTIFY, abstain when pA_lower ≤ ½): 50.00%');
    const mixed = join(dir, 'mixed.jsonl');
    writeFileSync(mixed, [row(0, 1, 1, 1), row(1, 2, null)].join('\n') + '\n');
    const r = ablate(['summarize', mixed]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/1 of 2 rows carry PREDICT/);
  });


  it('reports mean and median samples per image; derives n0 + n for Cohen files written before rows had it', () => {
    // written before rows had `samples`: n0 + n = 100 + 100 000 from the sidecar (no PREDICT in these rows)
    const old = JSON.parse(ablate(['summarize', join(root, 'reproduction/results/table7-lee-noise-k0.2.jsonl'), '--json']).stdout);
    expect(old.samples).toEqual({ mean: 100100, median: 100100 });
    // rows with PREDICT joined: the certificate's n0 + n plus PREDICT's 10 000 per image
    const cohen = JSON.parse(ablate(['summarize', join(root, 'reproduction/results/table1-k45.jsonl'), '--json']).stdout);
    expect(cohen.samples).toEqual({ mean: 21000, median: 21000 });
    const f = join(dir, 'samples.jsonl');
    const row = (index: number, samples: number) => JSON.stringify({ index, label: 0, prediction: 0, radius: 1, correct: true, pLower: 0.9, nA: 9, n: 10, samples, seconds: 1 });
    writeFileSync(f, [row(0, 100), row(1, 400), row(2, 250), row(3, 1000)].join('\n') + '\n');
    const s = JSON.parse(ablate(['summarize', f, '--json']).stdout);
    expect(s.samples).toEqual({ mean: 437.5, median: 325 });
    expect(ablate(['summarize', f]).stdout).toMatch(/samples per image: mean 437.5, median 325/);
  });

  it('follows the paper: misclassified or abstained count as −∞ ({N/A, N/A, 1, 2, 3} → median 1)', () => {
    const f = join(dir, 'paper-example.jsonl');
    const row = (index: number, radius: number | null, correct: boolean) => JSON.stringify({ index, label: 0, prediction: radius === null ? null : correct ? 0 : 1, radius, correct, pLower: 0.9, nA: 9, n: 10, seconds: 1 });
    writeFileSync(f, [row(0, null, false), row(1, 5, false), row(2, 1, true), row(3, 2, true), row(4, 3, true)].join('\n') + '\n');
    const r = ablate(['summarize', f, '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ count: 5, accuracy: 0.6, abstainRate: 0.2, medianCertifiedRadius: 1 });
    expect(s.certifiedAccuracy).toEqual({ '0': 0.6, '1': 0.6, '2': 0.4, '3': 0.2 });
  });

  it('plots several runs on one chart with a legend', () => {
    const svg = join(dir, 'cmp.svg');
    const r = ablate(['summarize', join(dir, 'basic.jsonl'), join(dir, 'reference.jsonl'), '--plot', svg]);
    expect(r.code).toBe(0);
    const text = readFileSync(svg, 'utf8');
    expect(text.startsWith('<svg')).toBe(true);
    expect(text.match(/<polyline/g)).toHaveLength(2);
    expect(text).toContain('ablation(k=45)');
    // every coordinate is rounded to 0.1 px (no float noise such as 393.59999999999997)
    const coords = [...text.matchAll(/ (?:x|y|x1|x2|y1|y2|points)="([^"]+)"/g)].map((m) => m[1]!);
    expect(coords.length).toBeGreaterThan(40);
    for (const c of coords) expect(c).toMatch(/^-?\d+(\.\d)?([ ,]-?\d+(\.\d)?)*$/);
    expect(r.stdout).toMatch(/median certified robustness/);
  });
});

describe('ablate plan', () => {
  it('pA = 1, ρ = 11 at k = 45, α = 0.05: fixed n 151 (α^(1/n) > ½ + Δ(11)), sequential check 365', () => {
    const r = ablate(['plan', '--perturbation', 'ablation', '--d', '784', '--retain', '45', '--radius', '11', '--p-a', '1', '--simulations', '0', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ fixedN: 151, sequentialN: 365, radiusAtPA: 11 });
  });

  it('ρ = 9 at pA = 0.95: the true smallest fixed n is 180 (not 209, where a bisection landed: 221 and 222 do not certify)', () => {
    const args = ['plan', '--perturbation', 'ablation', '--d', '784', '--retain', '45', '--radius', '9', '--p-a', '0.95', '--simulations', '0'];
    const r = ablate([...args, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).fixedN).toBe(180);
    expect(ablate(args).stdout).toContain('smallest fixed n (Cohen, estimation samples; add n0 for selection; a few larger n may not certify): 180');
  });

  it('best k for a pA curve, and usage errors', () => {
    const r = ablate(['plan', '--perturbation', 'ablation', '--d', '784', '--curve', '20:0.90,45:0.97,100:0.995', '--json']);
    expect(JSON.parse(r.stdout).best).toMatchObject({ param: 20, radiusAtN: 19 });
    expect(ablate(['plan', '--perturbation', 'ablation', '--d', '784']).code).toBe(2);
    const bad = ablate(['plan', '--perturbation', 'ablation', '--d', '784', '--curve', '20:1.5']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--curve/);
  });

  const plan = ['plan', '--perturbation', 'ablation', '--d', '784', '--retain', '45', '--radius', '3', '--p-a', '0.99', '--simulations', '0'];
  it('the text answer says the fixed n assumes the typical vote count (the oracle floor), not for pA = 1', () => {
    expect(ablate(plan).stdout).toMatch(/both assume ⌊pA·n⌋ votes for the top class; random votes fall below that about half the time/);
    expect(ablate(['plan', '--perturbation', 'ablation', '--d', '784', '--retain', '45', '--radius', '11', '--p-a', '1', '--simulations', '0']).stdout).not.toMatch(/random votes/);
  });
  it.each([
    [['--alpha', '1e-120'], `ablate: --alpha: must be in [${MIN_ALPHA}, 1), got 1e-120 (smaller α are not supported: the Clopper–Pearson bound is verified conservative only above ${MIN_ALPHA})`],
    [['--alpha', '1'], `ablate: --alpha: must be in [${MIN_ALPHA}, 1), got 1 (smaller α are not supported: the Clopper–Pearson bound is verified conservative only above ${MIN_ALPHA})`],
    [['--p-a', '1.5'], 'ablate: --p-a: must be in [0, 1], got 1.5'],
    [['--retain', '900'], 'ablate: --retain: must be an integer from 1 to --d (784), got 900'],
    [['--radius', '900'], 'ablate: --radius: must be in [0, 784] (pixels), got 900'],
    [['--n0', '11000'], 'ablate: --n0: (11000) must be < --max-samples (11000)'],
  ])('errors name the flags typed: %j', (flags, message) => {
    const r = ablate([...plan, ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(message);
  });

  it('accepts α = MIN_ALPHA; curve and lee-noise/gaussian parameters are named by flag', () => {
    expect(ablate([...plan, '--alpha', String(MIN_ALPHA), '--json']).code).toBe(0);
    const curve = ablate(['plan', '--perturbation', 'ablation', '--d', '784', '--curve', '20:0.9,900:0.99']);
    expect(curve.stderr.trim()).toBe('ablate: --curve: k = 900 must be an integer from 1 to --d (784)');
    const lee = ablate(['plan', '--perturbation', 'lee-noise', '--d', '784', '--keep-prob', '1.5', '--radius', '1', '--p-a', '0.9']);
    expect(lee.stderr.trim()).toBe('ablate: --keep-prob: must be in (0, 1), got 1.5');
    const gauss = ablate(['plan', '--perturbation', 'gaussian', '--sigma', '-1', '--radius', '1', '--p-a', '0.9']);
    expect(gauss.stderr.trim()).toBe('ablate: --sigma: must be a finite number > 0, got -1');
  });
});

describe('ablate radius', () => {
  it.each([
    [['--retain', '45'], 11],
    [['--retain', '20'], 26],
    [['--retain', '100'], 5],
  ])('ablation %j at pA ≥ 0.9997005 → %i', (flags, radius) => {
    const r = ablate(['radius', '--perturbation', 'ablation', '--d', '784', ...flags, '--p-lower', '0.99970047', '--json']);
    expect(JSON.parse(r.stdout).radius).toBe(radius);
  });

  it('reports the information per sample (eq. 20–21)', () => {
    const lee = JSON.parse(ablate(['radius', '--perturbation', 'lee-noise', '--d', String(3 * 224 * 224), '--keep-prob', '0.1', '--p-lower', '0.5965', '--json']).stdout);
    expect(lee.informationBits).toBeCloseTo(50590.4, 1);
    expect(lee.radius).toBe(1);
    const abl = JSON.parse(ablate(['radius', '--perturbation', 'ablation', '--d', String(3 * 224 * 224), '--retain', '14521', '--p-lower', '0.5965', '--json']).stdout);
    expect(abl.informationBits).toBe(116168);
    expect(abl.radius).toBe(1);
  });

  it.each([
    [['--perturbation', 'ablation', '--d', '784', '--retain', '900', '--p-lower', '0.99'], 'ablate: --retain: must be an integer from 1 to --d (784), got 900'],
    [['--perturbation', 'ablation', '--d', '784', '--retain', '45', '--p-lower', '1.5'], 'ablate: --p-lower: must be in [0, 1], got 1.5'],
    [['--perturbation', 'ablation', '--d', '784', '--retain', '45', '--p-lower', '0.9', '--p-upper', '0.2'], 'ablate: --p-upper: --p-lower + --p-upper = 1.1 exceeds 1 (p_A and p_B are probabilities of disjoint events)'],
    [['--perturbation', 'lee-noise', '--d', '784', '--keep-prob', '0', '--p-lower', '0.9'], 'ablate: --keep-prob: must be in (0, 1), got 0'],
    [['--perturbation', 'gaussian', '--p-lower', '0.9'], 'ablate: --sigma: is required for --perturbation gaussian'],
  ])('errors name the flags typed: %j', (flags, message) => {
    const r = ablate(['radius', ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(message);
  });
});

describe('exit codes and messages', () => {
  it.each([
    [['certify', '--alpha', 'x'], /--alpha must be a number/],
    [['certify', '--config', config, '--alpha', '2'], /\/certifier\/alpha: must be < 1/],
    [['certify', '--config', config, '--retain', '900'], /\/perturbation\/retain.*exceeds the d = 784/],
    [['certify', '--config', join(dir, 'nope.json')], /cannot read .*nope.json \(file not found\)/],
    [['certify', '--config', config, '--model', 'models/missing.onnx'], /missing.onnx \(file not found\)/],
    [['certify', '--config', config, '--encoder', 'mean'], /takes input "input" of shape \[N, 2, 28, 28\]/],
    [['certify', '--config', config, '--start', '10000'], /--start: 10000 is past the end/],
    [['certify', '--config', config, '--resume'], /--resume: needs --out/],
    [['radius', '--perturbation', 'ablation', '--p-lower', '0.9'], /--d: is required/],
    [['frobnicate'], /unknown command/],
  ])('%j → exit 2, no stack trace', (args, message) => {
    const r = ablate(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a missing --out folder is a usage error found before anything loads', () => {
    const r = ablate(['certify', ...small, '--count', '1', '--out', join(dir, 'no/such/dir/out.jsonl')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out: the folder .*no\/such\/dir does not exist \(create it first/);
  });
});

describe('ablate train (tfjs, tiny model on the pure-JS cpu backend)', () => {
  it('refuses an existing --out before loading anything', () => {
    const out = join(dir, 'taken');
    mkdirSync(out);
    writeFileSync(join(out, 'model.json'), '{}');
    const r = ablate(['train', '--out', out, '--count', '10']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out: .*taken already holds model.json; it was left unchanged/);
    expect(r.stderr).not.toMatch(/training on/);
  });

  it('trains under ablation with one mask per minibatch, writes a loadable model and card', () => {
    const out = join(dir, 'tiny-model');
    const r = ablate(['train', '--architecture', 'tiny', '--count', '512', '--epochs', '2', '--batch-size', '32', '--lr', '0.01', '--retain', '200', '--backends', 'cpu', '--out', out]);
    expect(r.code).toBe(0);
    const card = JSON.parse(readFileSync(join(out, 'card.json'), 'utf8'));
    expect(card).toMatchObject({ perturbation: 'ablation(k=200)', encoder: 'multichannel', images: 512, epochs: 2, backend: 'cpu' });
    expect(card.history[1].loss).toBeLessThan(card.history[0].loss);
    // it says it is not on native TensorFlow, estimates the time from the first batches, and reports every batch
    expect(r.stderr).toMatch(/training on the tfjs "cpu" backend \(pure JavaScript\), not native TensorFlow/);
    expect(r.stderr).toMatch(/estimate: [\d.]+ s per batch \(measured over batches 2–4\) → about .* for 32 batches/);
    expect(r.stderr).toMatch(/\[batch 32\/32\] epoch 2, loss [\d.]+ \| ETA/);
    // the trained model certifies through the tfjs backend
    const c = ablate(['certify', '--backend', 'tfjs', '--model', out, '--retain', '200', '--count', '1', '--n0', '10', '--n', '50', '--batch-size', '60']);
    expect(c.code).toBe(0);
    expect(Object.keys(JSON.parse(c.stdout))).toContain('radius');
  });
});
