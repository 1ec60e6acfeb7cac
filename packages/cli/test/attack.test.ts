import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseClassifierDecider, changedLocations, confirmDecider, createContainer } from '@ablate/core';
import '@ablate/backend-onnx';
import { decodePng } from '@ablate/datasets';
import { runAblate, jsonlRows } from './helpers/ablate-process.js';

const root = resolve(__dirname, '../../..');
const bin = join(root, 'packages/cli/dist/bin.js');
const example = JSON.parse(readFileSync(join(root, 'examples/mnist-onnx/config.json'), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'ablate-attack-'));
// the shipped k = 45 model with an absolute path, n = 40 samples per query and at most 40 queries per restart (fast)
const config = join(dir, 'config.json');
writeFileSync(
  config,
  JSON.stringify({
    ...example,
    classifier: { ...example.classifier, model: join(root, 'models/mnist-k45-multichannel.onnx') },
    certifier: { ...example.certifier, n: 40 },
    attack: { type: 'pointwise', maxQueries: 40 },
  }),
);

const ablate = (args: string[]) => runAblate(bin, root, args);
const rows = jsonlRows;
const withoutSeconds = (rs: any[]) => rs.map(({ seconds: _s, ...r }) => r);

describe('ablate attack', () => {
  it('against the base model: contract rows, and every saved PNG is exactly an adversarial example of its magnitude', async () => {
    const out = join(dir, 'base.jsonl');
    const ex = join(dir, 'base-examples');
    const r = ablate(['attack', '--config', config, '--target', 'base', '--count', '4', '--restarts', '2', '--out', out, '--save-examples', ex]);
    expect(r.code, r.stderr).toBe(0);
    const rs = rows(out);
    expect(rs.map((x) => x.index)).toEqual([0, 1, 2, 3]);
    for (const x of rs) expect(Object.keys(x)).toEqual(['index', 'label', 'magnitude', 'restarts', 'queries', 'samples', 'seconds']);
    expect(JSON.parse(readFileSync(`${out}.meta.json`, 'utf8'))).toMatchObject({ command: 'attack', config: { target: 'base', attackDescription: 'pointwise(restarts=2, levels=256)' } });
    expect(r.stderr).toMatch(/\[4\/4\] image 3: label 0, /);
    // summarize names the oracle: the base model's argmax, not PREDICT
    const clean = rs.filter((x) => x.magnitude !== 0).length / 4;
    expect(JSON.parse(ablate(['summarize', out, '--json']).stdout)).toMatchObject({ accuracySource: 'base', accuracy: clean, abstainRate: 0 });
    expect(ablate(['summarize', out]).stdout).toContain(`  clean accuracy (base classifier argmax, no smoothing): ${(100 * clean).toFixed(2)}% (${4 * (1 - clean)} misclassified, counted as 0)\n`);
    // re-check each saved example through the SDK
    const rt = await createContainer(JSON.parse(readFileSync(config, 'utf8')), { baseDir: dir });
    try {
      const decide = baseClassifierDecider(rt.classifier, rt.encoder);
      const saved = readdirSync(ex).sort();
      expect(saved).toEqual(rs.filter((x) => x.magnitude !== null).map((x) => `${x.index}.png`).sort());
      for (const x of rs) {
        if (x.magnitude === null) continue;
        const original = rt.dataset!.get(x.index).image;
        const adv = decodePng(readFileSync(join(ex, `${x.index}.png`)));
        expect(adv.shape).toEqual([1, 28, 28]);
        expect(changedLocations(adv.data, original.data, original.shape)).toBe(x.magnitude);
        expect(x.samples).toBe(x.queries);
        if (x.magnitude > 0) expect((await decide(adv, { index: x.index, restart: 0, query: 0 })).prediction).not.toBe(x.label);
      }
    } finally {
      await rt.dispose();
    }
  });

  it('against the smoothed classifier: deterministic for a seed, resumable, PREDICT and confirmation samples counted', () => {
    const a = join(dir, 'smoothed-a.jsonl');
    const b = join(dir, 'smoothed-b.jsonl');
    const args = ['attack', '--config', config, '--count', '2', '--restarts', '1', '--fixed-samples', '--confirm-n', '200'];
    expect(ablate([...args, '--out', a, '--save-examples', join(dir, 'ea')]).code).toBe(0);
    // b: first image only, then resumed to both: same rows and same PNG bytes as the uninterrupted run
    expect(ablate([...args, '--count', '1', '--out', b, '--save-examples', join(dir, 'eb')]).code).toBe(0);
    const resumed = ablate([...args, '--out', b, '--resume', '--save-examples', join(dir, 'eb')]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/\[2\/2\] image 1/);
    expect(withoutSeconds(rows(b))).toEqual(withoutSeconds(rows(a)));
    for (const x of rows(a)) {
      expect(Object.keys(x)).toEqual(['index', 'label', 'magnitude', 'confirmed', 'searchMagnitude', 'confirmations', 'restarts', 'queries', 'samples', 'seconds']);
      expect(x.samples).toBe(40 * x.queries + 200 * x.confirmations);
      if (x.magnitude !== null) expect(readFileSync(join(dir, 'eb', `${x.index}.png`))).toEqual(readFileSync(join(dir, 'ea', `${x.index}.png`)));
    }
    expect(JSON.parse(readFileSync(`${a}.meta.json`, 'utf8')).config).toMatchObject({ decision: 'PREDICT, fixed n = 40, alpha = 0.05', confirmation: 'PREDICT, fixed n = 200, alpha = 0.05, substream confirm' });
    const summary = JSON.parse(ablate(['summarize', a, '--json']).stdout);
    expect(summary.accuracySource).toBe('predict');
    const confirmed = rows(a).filter((x) => x.confirmed !== null).length;
    expect(summary.attack.confirmation).toMatchObject({ n: confirmed ? [200] : [], confirmed });
    expect(ablate(['summarize', a]).stdout).toContain('  clean accuracy (PREDICT, binomial test of the top two counts): ');
    expect(ablate(['summarize', a]).stdout).toContain(`  confirmed by a fresh PREDICT (n = ${confirmed ? 200 : '—'}): ${confirmed} of 2 images; `);
    // resuming with another target, config or confirmation is refused
    expect(ablate([...args, '--target', 'base', '--out', b, '--resume']).code).toBe(2);
    expect(ablate([...args, '--restarts', '3', '--out', b, '--resume']).code).toBe(2);
    expect(ablate([...args, '--confirm-n', '300', '--out', b, '--resume']).code).toBe(2);
  }, 600_000); // seven processes; a few seconds on an idle machine

  it('--images-in-flight 3: the same rows and example PNGs as one image at a time, in index order; --target base refuses it', () => {
    const one = join(dir, 'in-flight-1.jsonl');
    const three = join(dir, 'in-flight-3.jsonl');
    const args = ['attack', '--config', config, '--count', '4', '--restarts', '1', '--confirm-n', '200'];
    expect(ablate([...args, '--out', one, '--save-examples', join(dir, 'if1')]).code).toBe(0);
    const r = ablate([...args, '--images-in-flight', '3', '--out', three, '--save-examples', join(dir, 'if3')]);
    expect(r.code, r.stderr).toBe(0);
    expect(rows(three).map((x) => x.index)).toEqual([0, 1, 2, 3]);
    expect(withoutSeconds(rows(three))).toEqual(withoutSeconds(rows(one)));
    expect(readdirSync(join(dir, 'if1')).length).toBeGreaterThan(0); // examples were found and saved: a real comparison
    expect(readdirSync(join(dir, 'if3')).sort()).toEqual(readdirSync(join(dir, 'if1')).sort());
    for (const f of readdirSync(join(dir, 'if1'))) expect(readFileSync(join(dir, 'if3', f))).toEqual(readFileSync(join(dir, 'if1', f)));
    const base = ablate(['attack', '--config', config, '--count', '1', '--target', 'base', '--images-in-flight', '2']);
    expect(base.code).toBe(2);
    expect(base.stderr).toContain('--images-in-flight');
    expect(base.stderr).toContain('--target smoothed only');
  }, 600_000);

  it('every reported example is confirmed: its saved PNG gets the recorded answer from a fresh PREDICT on the confirmation stream', async () => {
    const out = join(dir, 'confirmed.jsonl');
    const ex = join(dir, 'confirmed-examples');
    // the search oracle: sequential PREDICT ≤ 20 samples (abstains readily); confirmations with 300
    const r = ablate(['attack', '--config', config, '--start', '2', '--count', '2', '--restarts', '1', '--predict-n', '20', '--confirm-n', '300', '--out', out, '--save-examples', ex]);
    expect(r.code, r.stderr).toBe(0);
    const rs = rows(out);
    expect(rs.some((x) => x.magnitude !== null)).toBe(true);
    const rt = await createContainer(JSON.parse(readFileSync(config, 'utf8')), { baseDir: dir });
    try {
      for (const x of rs) {
        if (x.magnitude === null) {
          expect(x.confirmed).toBeNull();
          continue;
        }
        expect(x.confirmed.prediction).not.toBe(x.label);
        expect(x.magnitude).toBeGreaterThanOrEqual(x.searchMagnitude);
        const adv = decodePng(readFileSync(join(ex, `${x.index}.png`)));
        const again = await confirmDecider(rt.smoothed, { n: 300 })(adv, { index: x.index, restart: 0, query: x.confirmed.attempt });
        expect({ n: again.samples, prediction: again.prediction, nA: again.votes!.nA, nB: again.votes!.nB, pValue: again.votes!.pValue }).toEqual({
          n: x.confirmed.n,
          prediction: x.confirmed.prediction,
          nA: x.confirmed.nA,
          nB: x.confirmed.nB,
          pValue: x.confirmed.pValue,
        });
      }
    } finally {
      await rt.dispose();
    }
  }, 600_000);

  it('search queries use PREDICT’s sample count: --predict-n, else a sequential certifier’s maxSamples (not certifier.n)', () => {
    const seq = join(dir, 'seq.jsonl');
    const r = ablate(['attack', '--config', config, '--count', '1', '--restarts', '1', '--fixed-samples', '--certifier', 'sequential', '--max-samples', '60', '--n0', '20', '--confirm-n', '100', '--out', seq]);
    expect(r.code, r.stderr).toBe(0);
    const [x] = rows(seq);
    expect(x.samples).toBe(60 * x.queries + 100 * x.confirmations);
    expect(JSON.parse(readFileSync(`${seq}.meta.json`, 'utf8')).config.decision).toBe('PREDICT, fixed n = 60, alpha = 0.05');
    const pn = join(dir, 'pn.jsonl');
    expect(ablate(['attack', '--config', config, '--count', '1', '--restarts', '1', '--fixed-samples', '--predict-n', '30', '--confirm-n', '100', '--out', pn]).code).toBe(0);
    const [y] = rows(pn);
    expect(y.samples).toBe(30 * y.queries + 100 * y.confirmations);
  }, 600_000);

  it('summarize refuses confirmed rows that contradict themselves, and files mixing confirmed and unconfirmed rows', () => {
    const f = join(dir, 'bad-confirmed.jsonl');
    const row = (over: object) => JSON.stringify({ index: 0, label: 3, magnitude: 5, confirmed: { n: 10000, prediction: null, nA: 10, nB: 9, pValue: 0.9, attempt: 2 }, searchMagnitude: 4, confirmations: 3, restarts: 1, queries: 9, samples: 99, seconds: 1, ...over });
    for (const [over, why] of [
      [{ confirmed: null }, /:1 reports an example \(magnitude 5\) without its confirmation/],
      [{ confirmed: { n: 10000, prediction: 3 } }, /:1 has a confirmation that returned its label 3/],
      [{ magnitude: null }, /:1 has a confirmation but no example/],
      [{ confirmed: { n: 0, prediction: null } }, /:1 has a confirmation without an integer "n"/],
    ] as const) {
      writeFileSync(f, `${row(over)}\n`);
      const r = ablate(['summarize', f]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(why);
    }
    writeFileSync(f, `${row({})}\n${JSON.stringify({ index: 1, label: 0, magnitude: 7, restarts: 1, queries: 1, samples: 1, seconds: 0 })}\n`);
    expect(ablate(['summarize', f]).stderr).toMatch(/1 of 2 attack rows carry a confirmation/);
    writeFileSync(f, `${row({})}\n${row({ index: 1, magnitude: null, confirmed: null, searchMagnitude: 3 })}\n${row({ index: 2, magnitude: 4 })}\n`);
    const s = JSON.parse(ablate(['summarize', f, '--json']).stdout);
    expect(s.attack).toMatchObject({ medianAdversarialMagnitude: 5, notFound: 1, confirmation: { n: [10000], confirmed: 2, walkedBack: 1, noneConfirmed: 1 } });
  });

  it('summarize: median adversarial magnitude with +∞ for none found and 0 for misclassified originals', () => {
    const f = join(dir, 'synthetic.jsonl');
    const line = (index: number, magnitude: number | null) => JSON.stringify({ index, label: 0, magnitude, restarts: 10, queries: 1, samples: 1, seconds: 0 });
    writeFileSync(f, `${[line(0, 0), line(1, 5), line(2, null), line(3, 31), line(4, 8)].join('\n')}\n`);
    const r = ablate(['summarize', f, '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.attack).toMatchObject({ medianAdversarialMagnitude: 8, misclassified: 1, notFound: 1 });
    expect(s.attack.empiricalAccuracy['0']).toBeCloseTo(4 / 5);
    expect(s.attack.empiricalAccuracy['8']).toBeCloseTo(2 / 5);
    expect(s.attack.empiricalAccuracy['31']).toBeCloseTo(1 / 5);
    writeFileSync(f, `${[line(0, 3), line(1, null), line(2, null), line(3, 1)].join('\n')}\n`);
    const text = ablate(['summarize', f]).stdout;
    expect(text).toMatch(/median adversarial magnitude: \+∞/);
    const svg = join(dir, 'plot.svg');
    expect(ablate(['summarize', f, '--plot', svg]).code).toBe(0);
    expect(readFileSync(svg, 'utf8')).toMatch(/stroke-dasharray/);
  });

  it('rejects bad flags with exit 2', () => {
    expect(ablate(['attack', '--config', config, '--restarts', '0']).code).toBe(2);
    expect(ablate(['attack', '--config', config, '--target', 'nope']).code).toBe(2);
    expect(ablate(['attack', '--config', config, '--resume']).code).toBe(2);
    const r = ablate(['attack', '--config', config, '--target', 'base', '--confirm-n', '100']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--confirm-n/);
  });
});
